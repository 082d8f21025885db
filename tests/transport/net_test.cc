// The hub and devices over real TLS 1.3 on 127.0.0.1: syncs, refusals, one live session per
// device, rejected ops reported back, and a proxy that cuts the link after N bytes for many N.
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <visitsync/transport/hub.h>

#include "hub_fixture.h"
#include "live_hub.h"
#include "support/fault_proxy.h"
#include "tls/context.h"
#include "wire/frame.h"
#include "wire/messages.h"

using namespace vs;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

using test::LiveHub;
using test::RawClient;

// A hub whose handshake, idle and write timeouts are 1 s.
struct StallingHub : LiveHub {
  StallingHub() : LiveHub("127.0.0.1", std::chrono::milliseconds(1000)) {}
};

// A hub enrolled by host name: devices look "localhost" up (in /etc/hosts: no query leaves the
// machine) and the hub's certificate carries that name.
struct LiveHubByName : LiveHub {
  LiveHubByName() : LiveHub("localhost") {}
};

std::string visit_json(Inspection& in, const std::string& id) {
  Result<VisitView> v = in.visit(id);
  INFO(v.status().to_string());
  REQUIRE(v.ok());
  return Inspection::to_json(v.value());
}

}  // namespace

TEST_CASE_METHOD(LiveHub, "devices sync with the hub over TLS on 127.0.0.1", "[transport][net]") {
  test::TestDevice a = enrolled("I0011");
  test::TestDevice b = enrolled("I0021");
  REQUIRE(sync(a).ok());
  Result<std::string> id = a.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(id.ok());
  test::answer_required(*a.in, id.value());
  Result<SyncReport> pushed = sync(a);
  REQUIRE(pushed.ok());
  CHECK(pushed->pushed == a.engine().stats()->last_own_seq);
  CHECK(pushed->bytes_sent > 0);
  CHECK(pushed->hub_id == "hub-test");
  Result<SyncReport> pulled = sync(b);
  REQUIRE(pulled.ok());
  CHECK(visit_json(*b.in, id.value()) == visit_json(*a.in, id.value()));
  CHECK(visit_json(admin_store->inspection(), id.value()) == visit_json(*a.in, id.value()));
  bool logged = false;
  for (const std::string& l : log_lines()) {
    logged = logged || (l.find("device=" + a.enrollment.device_id) != std::string::npos &&
                        l.find("ops_in=" + std::to_string(pushed->pushed)) != std::string::npos &&
                        l.find("outcome=ok") != std::string::npos);
  }
  CHECK(logged);
}

TEST_CASE_METHOD(LiveHub, "the hub refuses strangers and keeps serving",
                 "[transport][net][input]") {
  test::TestDevice good = enrolled("I0011");
  SECTION("a certificate from another deployment's CA") {
    test::Deployment other;
    test::TestDevice stranger = other.device("I0011");
    Result<SyncReport> r = sync(stranger, server->port());
    CHECK(r.status().code() == Code::kRejected);
  }
  SECTION("a revoked device") {
    test::TestDevice gone = enrolled("I0021");
    REQUIRE(sync(gone).ok());
    REQUIRE(admin_store->revoke_device(gone.enrollment.device_id).ok());
    Result<SyncReport> r = sync(gone);
    CHECK(r.status().code() == Code::kRejected);
    CHECK_THAT(r.status().message(), Catch::Contains("revoked"));
  }
  SECTION("a device the hub never enrolled, with a certificate from the right CA") {
    DeviceRecord ghost{"d-I0011-ghost", "I0011", Role::kInspector, false, 0};
    Result<Enrollment> e = make_enrollment(ca, ghost, "127.0.0.1", server->port());
    REQUIRE(e.ok());
    Result<std::unique_ptr<Inspection>> in = Inspection::create(
        dir().file("ghost"), ghost.device_id, "enrolled", "I0011", Role::kInspector, &clock);
    REQUIRE(in.ok());
    test::TestDevice d{e.value(), std::move(in.value())};
    Result<SyncReport> r = sync(d);
    CHECK(r.status().code() == Code::kRejected);
    CHECK_THAT(r.status().message(), Catch::Contains("not enrolled"));
  }
  SECTION("a plain TCP client") {
    tcp::iostream plain(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
    plain.expires_after(std::chrono::seconds(5));
    plain << "HELLO hub\r\n" << std::flush;
    std::string reply;
    std::getline(plain, reply);
    CHECK(reply.find("HELLO") == std::string::npos);  // no echo, no protocol: it is closed on
  }
  SECTION("a client that offers TLS 1.2 only") {
    RawClient raw;
    raw.ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX_set_max_proto_version(raw.ctx->native_handle(), TLS1_2_VERSION);
    raw.ctx->set_verify_mode(asio::ssl::verify_none);
    CHECK(raw.connect(server->port()));  // the handshake fails
  }
  SECTION("no hub at the address") { CHECK(sync(good, 1).status().code() == Code::kUnavailable); }
  // Whatever the stranger did, a good device still syncs.
  CHECK(sync(good).ok());
}

TEST_CASE_METHOD(LiveHub, "a second session of a device replaces the first", "[transport][net]") {
  test::TestDevice a = enrolled("I0011");
  RawClient first;
  Result<std::unique_ptr<asio::ssl::context>> ctx = tls::client_context(
      a.enrollment.ca_pem, tls::Credentials{a.enrollment.cert_pem, a.enrollment.key_pem});
  REQUIRE(ctx.ok());
  first.ctx = std::move(ctx.value());
  REQUIRE_FALSE(first.connect(server->port()));
  wire::Hello h;
  h.device_id = a.enrollment.device_id;
  std::string bytes;
  wire::append_frame(bytes, wire::encode(h));
  asio::write(*first.stream, asio::buffer(bytes));
  char header[4];
  asio::read(*first.stream, asio::buffer(header));  // the welcome arrives: the session is live
  REQUIRE(sync(a).ok());                            // the second session, while the first waits
  // The first is closed by the hub: its next read fails instead of waiting for the idle timeout.
  first.stream->next_layer().non_blocking(false);
  boost::system::error_code ec;
  std::string rest(65536, '\0');
  const auto started = std::chrono::steady_clock::now();
  while (!ec) first.stream->read_some(asio::buffer(rest), ec);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
}

TEST_CASE_METHOD(LiveHub,
                 "ops to a school the device is no longer assigned are rejected, reported and kept",
                 "[transport][net]") {
  test::TestDevice a = enrolled("I0011");
  REQUIRE(sync(a).ok());
  Result<std::string> id = a.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(id.ok());
  REQUIRE(sync(a).ok());
  // The assignment ends at headquarters while the device is offline with the old one.
  REQUIRE(admin_store->inspection()
              .import_reference(
                  ReferenceKind::kAssignments,
                  "inspector_id,school_id,from,until\nI0011,S00011,2026-09-01,2026-11-01\n")
              .ok());
  REQUIRE(a.in->set_answer(id.value(), "class_count", "12").ok());
  Result<SyncReport> r = sync(a);
  REQUIRE(r.ok());
  REQUIRE(r->rejected.size() == 1);
  CHECK_THAT(r->rejected[0].second, Catch::Contains("may not write visits of school S00011"));
  Result<std::vector<std::pair<std::uint64_t, std::string>>> refused = refused_ops(a.engine());
  REQUIRE(refused.ok());
  REQUIRE(refused->size() == 1);
  CHECK(refused->front() == r->rejected[0]);
  const VisitView on_device = a.in->visit(id.value()).value();
  bool kept = false;
  for (const Answer& ans : on_device.answers)
    kept = kept || (ans.item->key == "class_count" && ans.value == Value::integer(12));
  CHECK(kept);
  CHECK(admin_store->engine()
            .read_field("visit/S00011/" + id.value(), "a.class_count")
            ->has_value() == false);
  // The pull brought the ended assignment: the device now refuses new answers itself.
  CHECK_THAT(a.in->set_answer(id.value(), "class_count", "13").message(),
             Catch::Contains("not assigned"));
}

TEST_CASE_METHOD(LiveHub,
                 "a link cut after any number of bytes resumes with every op once on both sides",
                 "[transport][net][resume]") {
  test::TestDevice a = enrolled("I0011");
  test::TestDevice b = enrolled("I0021");
  REQUIRE(sync(a).ok());
  REQUIRE(sync(b).ok());
  test::FaultProxy proxy(server->port());
  std::vector<std::string> visits;
  int cuts = 0;
  for (std::size_t budget = 40; budget < 200'000; budget = budget * 5 / 4 + 17) {
    INFO("cut after " << budget << " bytes");
    for (int k = 0; k < 2; ++k) {
      Result<std::string> id = a.in->start_visit(test::kSharedSchool, "school-conditions");
      REQUIRE(id.ok());
      visits.push_back(id.value());
      test::answer_required(*a.in, id.value());
    }
    for (std::size_t k = 0; k + 2 < visits.size(); ++k) {
      REQUIRE(b.in->set_answer(visits[k], "library_books", std::to_string(budget + k)).ok());
    }
    for (test::TestDevice* d : {&a, &b}) {
      proxy.cut_next_after_bytes(budget);
      Result<SyncReport> cut = sync(*d, proxy.port());
      if (!cut.ok()) {
        ++cuts;
        CHECK(cut.status().code() == Code::kUnavailable);
      }
      int tries = 0;
      while (!sync(*d, proxy.port()).ok() && ++tries < 5) {
      }
      REQUIRE(tries < 5);
    }
    REQUIRE(sync(a, proxy.port()).ok());  // a gets b's answers
    for (test::TestDevice* d : {&a, &b}) {
      const std::uint64_t last = d->engine().stats()->last_own_seq;
      CHECK(admin_store->device(d->enrollment.device_id)->acked_seq == last);
      std::size_t on_hub = 0;
      Result<LogSlice> all = admin_store->engine().log_after(0, 100'000'000);
      REQUIRE(all.ok());
      for (const Op& op : all->ops) on_hub += op.id.device == d->enrollment.device_id ? 1 : 0;
      CHECK(on_hub == last);
      // And the other device holds each of them once (a log holds no op twice: the count is
      // exact only if none is missing).
      test::TestDevice& other = d == &a ? b : a;
      std::size_t on_other = 0;
      Result<LogSlice> theirs = other.engine().log_after(0, 100'000'000);
      REQUIRE(theirs.ok());
      for (const Op& op : theirs->ops) on_other += op.id.device == d->enrollment.device_id ? 1 : 0;
      CHECK(on_other == last);
    }
    // Each visit was sent and acknowledged, even where the cut took the ack with it (the next
    // welcome told); b's copies of a's visits were received.
    Result<std::map<std::string, VisitSync>> sent = visit_sync_states(a.engine());
    Result<std::map<std::string, VisitSync>> received = visit_sync_states(b.engine());
    REQUIRE(sent.ok());
    REQUIRE(received.ok());
    for (const std::string& v : visits) {
      const std::string on_hub = visit_json(admin_store->inspection(), v);
      CHECK(visit_json(*a.in, v) == on_hub);
      CHECK(visit_json(*b.in, v) == on_hub);
      CHECK(sent->at(v).unacked == 0);
      CHECK(sent->at(v).last_sent_ms > 0);
      CHECK(received->at(v).last_received_ms > 0);
    }
  }
  CHECK(cuts >= 30);  // the cuts really fell inside sessions, push and pull alike
}

TEST_CASE_METHOD(LiveHub,
                 "a byte flipped anywhere in a session fails it cleanly, and the next sync "
                 "completes with every op once",
                 "[transport][net][faults]") {
  test::TestDevice a = enrolled("I0011");
  REQUIRE(sync(a).ok());
  test::FaultProxy proxy(server->port());
  std::size_t failed = 0;
  for (std::size_t at = 3; at < 40'000; at = at * 5 / 4 + 7) {
    INFO("byte " << at << " flipped");
    Result<std::string> id = a.in->start_visit(test::kSharedSchool, "school-conditions");
    REQUIRE(id.ok());
    test::answer_required(*a.in, id.value());
    const std::uint64_t flips = proxy.flips();
    proxy.flip_next_at(at);
    Result<SyncReport> hit = sync(a, proxy.port());
    if (proxy.flips() == flips) continue;  // the session was shorter than `at`
    ++failed;
    // TLS authenticates every record: the flip is caught, the session ends, nothing is taken.
    REQUIRE_FALSE(hit.ok());
    CHECK((hit.status().code() == Code::kUnavailable || hit.status().code() == Code::kRejected));
    CHECK_FALSE(hit.status().message().empty());
    REQUIRE(sync(a).ok());
    const std::uint64_t last = a.engine().stats()->last_own_seq;
    CHECK(admin_store->device(a.enrollment.device_id)->acked_seq == last);
    std::size_t on_hub = 0;
    Result<LogSlice> all = admin_store->engine().log_after(0, 100'000'000);
    REQUIRE(all.ok());
    for (const Op& op : all->ops) on_hub += op.id.device == a.enrollment.device_id ? 1 : 0;
    CHECK(on_hub == last);
  }
  CHECK(failed >= 20);  // flips fell in the handshake, the pushes and the pulls
  CHECK(a.engine().check_integrity().ok());
}

TEST_CASE_METHOD(StallingHub,
                 "the hub ends a session that stalls in the handshake, between messages or "
                 "inside a message",
                 "[transport][net]") {
  test::TestDevice a = enrolled("I0011");
  Result<std::unique_ptr<asio::ssl::context>> ctx = tls::client_context(
      a.enrollment.ca_pem, tls::Credentials{a.enrollment.cert_pem, a.enrollment.key_pem});
  REQUIRE(ctx.ok());
  RawClient client;
  client.ctx = std::move(ctx.value());
  const auto started = std::chrono::steady_clock::now();
  SECTION("a TCP connection that never starts TLS") {
    tcp::socket plain(client.io);
    plain.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
    CHECK(logged("outcome=unavailable: TLS handshake: no progress for 1000 ms"));
  }
  SECTION("a session that sends nothing after its handshake") {
    REQUIRE_FALSE(client.connect(server->port()));
    CHECK(logged("outcome=unavailable: waiting for a message: no progress for 1000 ms"));
  }
  SECTION("a message whose body stops coming") {
    REQUIRE_FALSE(client.connect(server->port()));
    wire::Hello h;
    h.device_id = a.enrollment.device_id;
    std::string bytes;
    wire::append_frame(bytes, wire::encode(h));
    REQUIRE(bytes.size() > wire::kFrameHeaderBytes + 10);
    asio::write(*client.stream, asio::buffer(bytes.data(), wire::kFrameHeaderBytes + 10));
    CHECK(logged("outcome=unavailable: receiving a message: no progress for 1000 ms"));
  }
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(8));
  // The hub still serves: a new session completes its handshake.
  Result<std::unique_ptr<asio::ssl::context>> again = tls::client_context(
      a.enrollment.ca_pem, tls::Credentials{a.enrollment.cert_pem, a.enrollment.key_pem});
  REQUIRE(again.ok());
  RawClient next;
  next.ctx = std::move(again.value());
  CHECK_FALSE(next.connect(server->port()));
}

TEST_CASE_METHOD(LiveHubByName,
                 "a device reaches a hub enrolled by host name, and checks that name",
                 "[transport][net]") {
  // Only where /etc/hosts answers for localhost: elsewhere the lookup could ask a DNS server
  // off this machine, and tests talk to loopback addresses only.
  std::ifstream hosts("/etc/hosts");
  bool local = false;
  for (std::string line; std::getline(hosts, line);) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::string address, name;
    words >> address;
    while (words >> name) local = local || (address == "127.0.0.1" && name == "localhost");
  }
  if (!local) {
    WARN("not run: /etc/hosts does not map localhost to 127.0.0.1");
    return;
  }
  test::TestDevice a = enrolled("I0011");
  REQUIRE(a.enrollment.hub_host == "localhost");
  Result<SyncReport> r = sync(a);
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  CHECK(r->pulled > 0);
  // The certificate names "localhost" only: the same hub by its address is not the enrolled hub.
  a.enrollment.hub_host = "127.0.0.1";
  Result<SyncReport> by_address = sync(a);
  CHECK(by_address.status().code() == Code::kRejected);
}

TEST_CASE("addresses are HOST:PORT or [IPv6]:PORT, and anything else is named",
          "[transport][net][input]") {
  Result<std::pair<std::string, std::uint16_t>> v4 = parse_host_port("127.0.0.1:7000");
  REQUIRE(v4.ok());
  CHECK(v4.value() == std::make_pair(std::string("127.0.0.1"), std::uint16_t{7000}));
  Result<std::pair<std::string, std::uint16_t>> v6 = parse_host_port("[::1]:0");
  REQUIRE(v6.ok());
  CHECK(v6.value() == std::make_pair(std::string("::1"), std::uint16_t{0}));
  for (const char* bad :
       {"", "7000", ":7000", "[::1]7000", "[::1", "host:", "host:70000", "host:7x", "host:-1"}) {
    INFO(bad);
    Result<std::pair<std::string, std::uint16_t>> r = parse_host_port(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
    CHECK_THAT(r.status().message(), Catch::StartsWith("'" + std::string(bad) + "'"));
  }
}
