// A forged device against a real hub over TLS on 127.0.0.1: a test-only client that skips every
// device-side check and pushes arbitrary ops (every value kind at and past its limits, metadata
// rewrites, bases naming unknown or future ops, counters at the int64 extremes, huge sets,
// another device's ids, records outside its scope, a seq sent again with other content),
// interleaved with the work of two honest devices. After every round the honest devices sync
// and everything must still hold: nothing honest refused or lost, replicas equal to the hub,
// exports, digests and conflicts working everywhere.
// Rerun a failure with VS_SEED=<seed>; VS_PROPERTY_ROUNDS=<n> runs n rounds instead of 200.
#include <cmath>
#include <limits>
#include <random>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <visitsync/transport/hub.h>

#include "live_hub.h"
#include "tls/context.h"
#include "wire/batch.h"
#include "wire/frame.h"
#include "wire/messages.h"

using namespace vs;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr const char* kShared = test::kSharedSchool;  // I0011, I0021; supervisor I0001

// The forged device's client: the device's certificate, and frames made by hand. Every read and
// write has a 5 s socket timeout, so a hub that stops answering fails the test instead of
// hanging it.
class ForgedClient {
 public:
  explicit ForgedClient(const Enrollment& e) : e_(e) {
    Result<std::unique_ptr<asio::ssl::context>> ctx =
        tls::client_context(e.ca_pem, tls::Credentials{e.cert_pem, e.key_pem});
    REQUIRE(ctx.ok());
    ctx_ = std::move(ctx.value());
  }

  // One session: hello, the pushes, bye. Returns the acknowledgements' refusals, or the hub's
  // refusal of the session (a protocol error is a fine answer to a forged push).
  Result<std::size_t> push(const std::vector<std::vector<Op>>& batches) {
    asio::ssl::stream<tcp::socket> s(io_, *ctx_);
    boost::system::error_code ec;
    s.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), e_.hub_port), ec);
    REQUIRE(!ec);
    const timeval limit{5, 0};
    setsockopt(s.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(s.next_layer().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    REQUIRE(tls::prepare_client_stream(s, e_.hub_host).ok());
    s.handshake(asio::ssl::stream_base::client, ec);
    REQUIRE(!ec);
    wire::Hello h;
    h.device_id = e_.device_id;
    h.last_seq = next_seq_ + 1'000'000;
    h.acked_seq = acked_;
    send(s, wire::encode(h));
    Result<wire::Welcome> w = wire::decode<wire::Welcome>(receive(s));
    REQUIRE(w.ok());
    acked_ = w->acked_seq;
    std::size_t refused = 0;
    for (const std::vector<Op>& ops : batches) {
      wire::Push p;
      p.batch = wire::encode_batch(ops);
      send(s, wire::encode(p));
      const wire::Frame f = receive(s);
      if (f.type == wire::MsgType::kRefused) {
        next_seq_ = acked_;  // the next session starts from the hub's count again
        return Status::invalid_input("refused");
      }
      Result<wire::PushAck> ack = wire::decode<wire::PushAck>(f);
      REQUIRE(ack.ok());
      acked_ = std::max(acked_, ack->acked_seq);
      refused += ack->rejected.size();
    }
    send(s, wire::encode(wire::Bye{}));
    s.shutdown(ec);  // how the close goes does not matter
    return refused;
  }

  // The seq the hub expects next, and a way to take seqs from it.
  std::uint64_t acked() const { return acked_; }
  std::uint64_t take_seq() { return next_seq_ = std::max(next_seq_, acked_) + 1; }

 private:
  void send(asio::ssl::stream<tcp::socket>& s, const wire::Frame& f) {
    std::string bytes;
    wire::append_frame(bytes, f);
    boost::system::error_code ec;
    asio::write(s, asio::buffer(bytes), ec);
    REQUIRE(!ec);
  }
  wire::Frame receive(asio::ssl::stream<tcp::socket>& s) {
    std::string header(4, '\0');
    boost::system::error_code ec;
    asio::read(s, asio::buffer(header), ec);
    REQUIRE(!ec);
    Result<std::size_t> n = wire::body_length(header);
    REQUIRE(n.ok());
    std::string body(n.value(), '\0');
    asio::read(s, asio::buffer(body), ec);
    REQUIRE(!ec);
    Result<wire::Frame> f = wire::frame_from_body(body);
    REQUIRE(f.ok());
    return f.value();
  }

  Enrollment e_;
  asio::io_context io_;
  std::unique_ptr<asio::ssl::context> ctx_;
  std::uint64_t acked_ = 0;
  std::uint64_t next_seq_ = 0;
};

// Random ops a rooted phone could send.
struct Forgery {
  std::mt19937_64& rng;
  std::string device;
  std::vector<std::string> keys;           // visits of the shared school
  std::vector<std::string> other_devices;  // honest devices' ids
  std::vector<OpId> seen;                  // ids of ops the forger has pushed or seen

  std::uint64_t pick(std::uint64_t n) { return rng() % n; }
  Value value() {
    const std::int64_t ints[] = {0, 1, -1, 9, INT64_MAX, INT64_MIN, 20001, -5};
    const double reals[] = {0.5,          -1e308, 1e308, std::numeric_limits<double>::infinity(),
                            std::nan(""), 123.25};
    const std::int32_t days[] = {kMinDateDays - 1, kMinDateDays, kMaxDateDays, kMaxDateDays + 1,
                                 INT32_MIN,        INT32_MAX,    20'000};
    switch (pick(8)) {
      case 0:
        return Value::integer(ints[pick(std::size(ints))]);
      case 1:
        return Value::decimal(reals[pick(std::size(reals))]);
      case 2:
        return Value::date(Date{days[pick(std::size(days))]});
      case 3:  // at the length limit, and now and then past it (the decoder refuses the push)
        return Value::text(std::string(pick(2) ? kMaxTextBytes + (pick(10) == 0 ? 1 : 0) : 3, 'x'));
      case 4: {
        std::vector<std::string> items;
        const std::size_t n = pick(2) ? kMaxSetItems + (pick(10) == 0 ? 1 : 0) : 2;
        for (std::size_t i = 0; i < n; ++i) items.push_back("o" + std::to_string(i));
        return Value::set(items);
      }
      case 5:
        return pick(2) ? Value::boolean(pick(2) == 0)
                       : Value::gps(GeoPoint{pick(2) ? 91.0 : 39.1,
                                             181.0 * (static_cast<double>(pick(3)) - 1.0), -1.0});
      case 6:
        return Value::text(pick(2) ? "none" : "I0011");
      default:
        return Value();
    }
  }
  std::string field() {
    const char* fields[] = {"template",
                            "template_version",
                            "started_by",
                            "school",
                            "started_at",
                            "status",
                            "inspectors",
                            "submitted.1",
                            "accepted.1",
                            "reviews",
                            "a.class_count",
                            "a.lessons_observed",
                            "a.dangerous_buildings",
                            "a.no_such",
                            "tags",
                            "a.overall_rating"};
    return fields[pick(std::size(fields))];
  }
  std::string record() {
    switch (pick(6)) {
      case 0:
        return "visit/S00012/x";  // another inspector's school
      case 1:
        return "school/" + std::string(kShared);
      case 2:
        return "template/school-conditions/000001";
      case 3:
        return "visit/" + std::string(kShared) + "/forged-" + std::to_string(pick(3));
      default:
        return keys.empty() ? "visit/" + std::string(kShared) + "/none" : keys[pick(keys.size())];
    }
  }
  // An op that could pass: the right policy, a value near the item's bounds, an honest visit.
  Op plausible(std::uint64_t seq) {
    struct Shape {
      const char* field;
      Policy policy;
      Value value;
    };
    const Shape shapes[] = {
        {"a.class_count", Policy::kLww, Value::integer(static_cast<std::int64_t>(pick(402)))},
        {"a.heating_ok", Policy::kMin, Value::integer(static_cast<std::int64_t>(pick(7)))},
        {"a.enrolled_students", Policy::kLww, Value::integer(pick(2) ? 20'000 : 20'001)},
        {"inspectors", Policy::kUnion, pick(2) ? Value::set({"I0021"}) : Value::set({"I0099"})},
        {"status", Policy::kMax, Value::integer(static_cast<std::int64_t>(4 + pick(4)))},
        {"submitted.1", Policy::kUnion, Value::set({device + "#1"})},
        {"template", Policy::kLww, Value::text("campus-safety")},
        {"started_by", Policy::kLww, Value::text("I0021")},
    };
    const Shape& shape = shapes[pick(std::size(shapes))];
    Op o;
    o.id = OpId{device, seq};
    o.hlc = make_hlc(test::kToday + seq * 10, 0);
    o.record = keys.empty() ? record() : keys[pick(keys.size())];
    o.field = shape.field;
    o.policy = shape.policy;
    o.value = shape.value;
    o.context = 1;
    if (!seen.empty() && pick(2)) o.base.push_back(seen[pick(seen.size())]);
    return o;
  }
  Op op(std::uint64_t seq) {
    if (pick(2)) return plausible(seq);
    Op o;
    o.id = OpId{device, seq};
    if (pick(20) == 0 && !other_devices.empty())
      o.id.device = other_devices[pick(other_devices.size())];
    o.hlc = pick(30) == 0 ? 0 : make_hlc(test::kToday + seq * 10, 0);
    o.record = record();
    o.field = field();
    o.policy = static_cast<Policy>(pick(kPolicyCount));
    o.value =
        o.policy == Policy::kCounter && pick(2) ? Value::integer(pick(2) ? INT64_MAX : 7) : value();
    o.context = pick(10) == 0 ? 0x80000001u : static_cast<std::uint32_t>(1 + pick(2));
    const std::size_t bases = pick(4);
    for (std::size_t i = 0; i < bases; ++i) {
      if (!seen.empty() && pick(2)) {
        o.base.push_back(seen[pick(seen.size())]);
      } else {
        o.base.push_back(OpId{pick(2) ? device : "d-nobody", seq + 1 + pick(1000)});  // future
      }
    }
    return o;
  }
};

std::string visit_json(Inspection& in, const std::string& id) {
  Result<VisitView> v = in.visit(id);
  INFO(id << ": " << v.status().to_string());
  REQUIRE(v.ok());
  return Inspection::to_json(v.value());
}

// Every honest op is on the hub, and none was refused.
void check_nothing_lost(HubStore& hub, test::TestDevice& d) {
  Result<std::vector<std::pair<std::uint64_t, std::string>>> refused = refused_ops(d.engine());
  REQUIRE(refused.ok());
  INFO((refused->empty() ? std::string() : refused->front().second));
  CHECK(refused->empty());
  // Acknowledged (durably handled) and not refused: merged.
  CHECK(hub.device(d.enrollment.device_id)->acked_seq == d.engine().stats()->last_own_seq);
}

}  // namespace

TEST_CASE_METHOD(test::LiveHub, "a forged device over TLS cannot harm the hub or honest devices",
                 "[transport][net][property][input]") {
  const std::uint64_t seed = test::seed();
  std::mt19937_64 rng(seed);
  INFO("VS_SEED=" << seed);
  const int rounds = test::property_rounds(200);
  test::TestDevice a = enrolled("I0011");
  test::TestDevice sup = enrolled("I0001");
  test::TestDevice forged = enrolled("I0021");
  ForgedClient client(forged.enrollment);
  Forgery f{
      rng, forged.enrollment.device_id, {}, {a.enrollment.device_id, sup.enrollment.device_id}, {}};
  REQUIRE(sync(a).ok());
  REQUIRE(sync(sup).ok());
  std::vector<std::string> visits;
  std::size_t forged_refused = 0;
  for (int round = 0; round < rounds; ++round) {
    INFO("round " << round);
    // Honest work: an inspector starts, answers and submits; the supervisor reviews.
    if (visits.size() < 4 && rng() % 3 == 0) {
      Result<std::string> id = a.in->start_visit(kShared, "school-conditions");
      REQUIRE(id.ok());
      visits.push_back(id.value());
    }
    if (!visits.empty()) {
      const std::string& id = visits[rng() % visits.size()];
      const char* items[] = {"class_count", "enrolled_students", "overall_rating", "heating_ok"};
      // Refused when the visit is locked (submitted): the API's refusal, not a loss.
      (void)a.in->set_answer(id, items[rng() % 4], std::to_string(1 + rng() % 5));
      if (rng() % 5 == 0) {
        const std::pair<const char*, const char*> required[] = {
            {"dangerous_buildings", "none"}, {"sports_ground_surfaced", "yes"},
            {"enrolled_students", "412"},    {"class_count", "9"},
            {"largest_class_size", "48"},    {"canteen_licensed", "yes"},
            {"overall_rating", "4"}};
        for (const auto& [item, value] : required) (void)a.in->set_answer(id, item, value);
        (void)a.in->submit(id);
      }
    }
    REQUIRE(sync(sup).ok());
    for (const std::string& id : visits) {
      if (rng() % 3 == 0) (void)sup.in->review(id, rng() % 2 ? "approve" : "return", "");
    }
    // The forger: one to three pushes of random ops in one session, now and then a resend of
    // an acknowledged seq with other content.
    std::vector<std::vector<Op>> batches(1 + rng() % 3);
    for (auto& batch : batches) {
      const std::size_t n = 1 + rng() % 12;
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t seq =
            client.acked() > 0 && rng() % 15 == 0 ? 1 + rng() % client.acked() : client.take_seq();
        batch.push_back(f.op(seq));
      }
      if (!f.keys.empty() && rng() % 8 == 0) {
        // A snapshot with its submit: entries the visit has, or ones it never had.
        const std::string& key = f.keys[rng() % f.keys.size()];
        const std::string entry =
            f.seen.empty() || rng() % 2
                ? a.enrollment.device_id + "#" + std::to_string(1 + rng() % 400)
                : f.seen[rng() % f.seen.size()].to_string();
        Op snap = f.plausible(client.take_seq());
        snap.record = key;
        snap.field = "submitted.1";
        snap.policy = Policy::kUnion;
        snap.value = Value::set({entry});
        snap.base.clear();
        Op submit = f.plausible(client.take_seq());
        submit.record = key;
        submit.field = "status";
        submit.policy = Policy::kMax;
        submit.value = Value::integer(5);
        submit.base.clear();
        batch.push_back(snap);
        batch.push_back(submit);
      }
      std::sort(batch.begin(), batch.end(),
                [](const Op& x, const Op& y) { return x.id.seq < y.id.seq; });
      for (const Op& op : batch) f.seen.push_back(op.id);
    }
    Result<std::size_t> refused = client.push(batches);
    if (refused.ok()) forged_refused += refused.value();

    // The honest devices sync twice (each sees the other's work), and everything holds.
    for (int pass = 0; pass < 2; ++pass) {
      Status sa = sync(a).status();
      INFO(sa.to_string());
      REQUIRE(sa.ok());
      Status ss = sync(sup).status();
      INFO(ss.to_string());
      REQUIRE(ss.ok());
    }
    // The forger learns a visit's key once the hub has it, as a rogue co-inspector would: a
    // key is a random UUID made on the device that starts the visit.
    f.keys.clear();
    for (const std::string& id : visits)
      f.keys.push_back("visit/" + std::string(kShared) + "/" + id);
    check_nothing_lost(*admin_store, a);
    check_nothing_lost(*admin_store, sup);
    for (const std::string& id : visits) {
      const std::string on_hub = visit_json(admin_store->inspection(), id);
      CHECK(visit_json(*a.in, id) == on_hub);
      CHECK(visit_json(*sup.in, id) == on_hub);
    }
    for (Inspection* in : {&admin_store->inspection(), a.in.get(), sup.in.get()}) {
      CHECK(in->export_visits(ExportFormat::kJsonl, "").ok());
      CHECK(in->engine().digest().ok());
      CHECK(in->engine().conflicts().ok());
      CHECK(in->visits().ok());
    }
  }
  // The run met the whole lifecycle, and the forger had ops both refused and merged.
  std::size_t decided = 0;
  for (const std::string& id : visits)
    decided += admin_store->inspection().visit(id)->status.phase != Phase::kDraft ? 1 : 0;
  std::size_t merged = 0;
  Result<LogSlice> log = admin_store->engine().log_after(0, 10'000'000);
  REQUIRE(log.ok());
  for (const Op& op : log->ops) merged += op.id.device == forged.enrollment.device_id ? 1 : 0;
  WARN("forged ops refused " << forged_refused << ", merged " << merged << "; visits past draft "
                             << decided << " of " << visits.size());
  CHECK(forged_refused > 0);
  CHECK(merged > 0);
  CHECK(decided > 0);
}
