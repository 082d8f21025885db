// The connections the hub holds, over real TLS 1.3 on loopback (schema/PROTOCOL.md,
// "Connections the hub holds"): a flood of connections that never finish a handshake, an
// address's share of handshake slots, the crowded deadline and the session cap. Flood connections
// come from other loopback addresses (127.0.0.2 and up: all of 127/8 is the loopback interface), so
// that the hub tells their sources apart.
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>
#include <openssl/ssl.h>

#include "live_hub.h"

using namespace vs;
using test::LiveHub;
using test::RawClient;

namespace {

// TCP connections made by hand, closed with the set.
class Conns {
 public:
  Conns() = default;
  ~Conns() {
    for (int fd : fds_) close(fd);
  }
  Conns(const Conns&) = delete;
  Conns& operator=(const Conns&) = delete;
  Conns(Conns&&) = delete;
  Conns& operator=(Conns&&) = delete;

  // A connection to the hub from `source` (a loopback address); its descriptor.
  int open(const std::string& source, std::uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    fds_.push_back(fd);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    REQUIRE(inet_pton(AF_INET, source.c_str(), &from.sin_addr) == 1);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    return fd;
  }
  std::size_t size() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
};

// Whether the hub closes `fd` within `limit` (it never sends anything on these connections).
bool closed_by_hub(int fd, std::chrono::milliseconds limit) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(limit.count())) <= 0) return false;
  char c = 0;
  const ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

// The bytes a TLS 1.3 client sends first: its ClientHello, made by OpenSSL into memory.
std::string client_hello() {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  REQUIRE(ctx);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  REQUIRE(ssl);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);  // the SSL owns both now
  SSL_set_connect_state(ssl.get());
  REQUIRE(SSL_do_handshake(ssl.get()) <= 0);  // it waits for the server's answer
  char* data = nullptr;
  const long n = BIO_get_mem_data(out, &data);
  REQUIRE(n > 100);
  return std::string(data, static_cast<std::size_t>(n));
}

// Raises the soft limit on open files towards `want`; returns the limit now in force.
rlim_t raise_open_files(rlim_t want) {
  rlimit lim{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &lim) == 0);
  if (lim.rlim_cur < want) {
    lim.rlim_cur = std::min(want, lim.rlim_max);
    REQUIRE(setrlimit(RLIMIT_NOFILE, &lim) == 0);
  }
  return lim.rlim_cur;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Starts a visit on the device, answers it, and syncs; the sync's wall time in ms.
double timed_sync(LiveHub& hub, test::TestDevice& d) {
  Result<std::string> id = d.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(id.ok());
  test::answer_required(*d.in, id.value());
  const auto t0 = std::chrono::steady_clock::now();
  Result<SyncReport> r = hub.sync(d);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  REQUIRE(r->pushed > 0);
  return ms;
}

// The default limits, with handshake deadlines long enough that no flood connection times out
// while the test runs on a loaded machine: only displacement can let the device in.
struct FloodHub : LiveHub {
  FloodHub()
      : LiveHub("127.0.0.1", std::chrono::milliseconds(0), [](HubOptions& o) {
          o.handshake_timeout = o.crowded_handshake_timeout = std::chrono::milliseconds(60'000);
        }) {}
};

}  // namespace

TEST_CASE_METHOD(FloodHub,
                 "a flood of 2000 connections that never start TLS and 200 stalled in the "
                 "handshake does not keep a device from syncing",
                 "[transport][net][limits]") {
  int silent = 2000;
  int stalled = 200;
  // Each flood connection holds two descriptors in this process (ours and the hub's).
  const rlim_t margin = 1000;
  const rlim_t want = 2 * static_cast<rlim_t>(silent + stalled) + margin;
  const rlim_t have = raise_open_files(want);
  if (have < want) {
    const double k = static_cast<double>(have - std::min(have, margin)) / (want - margin);
    silent = static_cast<int>(silent * k);
    stalled = static_cast<int>(stalled * k);
    WARN("open files limited to " << have << ": the flood is cut to " << silent << " + "
                                  << stalled);
    REQUIRE(silent > 100);
  }
  test::TestDevice a = enrolled("I0011");
  REQUIRE(sync(a).ok());  // the first pull, of the whole scope, is not timed
  std::vector<double> idle;
  for (int i = 0; i < 5; ++i) idle.push_back(timed_sync(*this, a));

  // The flood, from 11 addresses, each below its share (512): only the total (2,048) fills.
  const std::uint64_t accepted = load().accepted;
  Conns flood;
  for (int i = 0; i < silent; ++i)
    flood.open("127.0.0." + std::to_string(2 + i % 10), server->port());
  const std::string hello = client_hello();
  for (int i = 0; i < stalled; ++i) {
    const int fd = flood.open("127.0.0.12", server->port());
    const std::size_t part = hello.size() / 2;  // half a ClientHello, then nothing
    REQUIRE(send(fd, hello.data(), part, MSG_NOSIGNAL) == static_cast<ssize_t>(part));
  }
  const std::size_t total = flood.size();
  REQUIRE(load_reaches([&](const HubLoad& l) { return l.accepted >= accepted + total; }));
  const HubLoad before = load();
  INFO("handshakes " << before.handshakes << ", evicted " << before.evicted);
  CHECK(before.handshakes == std::min<std::size_t>(total, 2048));
  CHECK(before.sessions == 0);

  std::vector<double> flooded;
  for (int i = 0; i < 5; ++i) flooded.push_back(timed_sync(*this, a));
  const HubLoad after = load();
  // The device got in by displacing flood connections, which stayed otherwise.
  CHECK(after.evicted > before.evicted);
  CHECK(after.handshakes + 10 >= before.handshakes);
  INFO("idle sync " << median(idle) << " ms, flooded " << median(flooded) << " ms (medians of 5)");
  CHECK(median(flooded) <= 3 * median(idle));
}

namespace {

// A hub with small limits: shares of 3 handshakes per address, 8 in all (no deadline cut
// short, so that only shares and displacement close connections here).
struct SmallHub : LiveHub {
  SmallHub()
      : LiveHub("127.0.0.1", std::chrono::milliseconds(0), [](HubOptions& o) {
          o.max_handshakes = 8;
          o.max_handshakes_per_address = 3;
          o.crowded_handshake_timeout = o.handshake_timeout;
        }) {}
};

// 8 handshake slots: from the fifth on, a connection's handshake has 300 ms, not 30 s.
struct CrowdedHub : LiveHub {
  CrowdedHub()
      : LiveHub("127.0.0.1", std::chrono::milliseconds(0), [](HubOptions& o) {
          o.max_handshakes = 8;
          o.handshake_timeout = std::chrono::milliseconds(30'000);
          o.crowded_handshake_timeout = std::chrono::milliseconds(300);
        }) {}
};

// A hub that serves one session at a time.
struct OneSessionHub : LiveHub {
  OneSessionHub()
      : LiveHub("127.0.0.1", std::chrono::milliseconds(0),
                [](HubOptions& o) { o.max_sessions = 1; }) {}
};

}  // namespace

TEST_CASE_METHOD(SmallHub,
                 "an address past its share of handshakes loses its own oldest, and a full hub "
                 "takes from the address holding the most",
                 "[transport][net][limits]") {
  constexpr std::chrono::milliseconds kSoon(5000);
  constexpr std::chrono::milliseconds kNot(200);
  Conns conns;
  std::vector<int> two;
  for (int i = 0; i < 3; ++i) two.push_back(conns.open("127.0.0.2", server->port()));
  REQUIRE(load_reaches([](const HubLoad& l) { return l.handshakes == 3; }));
  two.push_back(conns.open("127.0.0.2", server->port()));  // a fourth from the same address
  CHECK(closed_by_hub(two[0], kSoon));
  CHECK_FALSE(closed_by_hub(two[1], kNot));
  CHECK(load_reaches([](const HubLoad& l) { return l.handshakes == 3 && l.evicted == 1; }));
  // Another address has a share of its own, and takes nothing from the first.
  std::vector<int> three;
  for (int i = 0; i < 3; ++i) three.push_back(conns.open("127.0.0.3", server->port()));
  CHECK(load_reaches([](const HubLoad& l) { return l.handshakes == 6 && l.evicted == 1; }));
  for (std::size_t i = 1; i < two.size(); ++i) CHECK_FALSE(closed_by_hub(two[i], kNot));
  // Two more fill the hub: a device from a third address still syncs.
  conns.open("127.0.0.4", server->port());
  conns.open("127.0.0.4", server->port());
  REQUIRE(load_reaches([](const HubLoad& l) { return l.handshakes == 8; }));
  test::TestDevice a = enrolled("I0011");
  Result<SyncReport> r = sync(a);
  INFO(r.status().to_string());
  CHECK(r.ok());
  // It took the slot of the oldest connection of an address holding three, not of 127.0.0.4.
  const bool from_two = closed_by_hub(two[1], kNot);
  const bool from_three = closed_by_hub(three[0], kNot);
  CHECK(from_two != from_three);
  CHECK(load().evicted == 2);
}

TEST_CASE_METHOD(CrowdedHub,
                 "a connection that comes while half the handshake slots are taken has the "
                 "shorter deadline",
                 "[transport][net][limits]") {
  Conns conns;
  std::vector<int> early;
  for (int i = 0; i < 4; ++i) early.push_back(conns.open("127.0.0.2", server->port()));
  REQUIRE(load_reaches([](const HubLoad& l) { return l.handshakes == 4; }));
  const int late = conns.open("127.0.0.3", server->port());
  CHECK(closed_by_hub(late, std::chrono::milliseconds(5000)));
  CHECK(logged("outcome=unavailable: TLS handshake: no progress for 300 ms"));
  for (int fd : early) CHECK_FALSE(closed_by_hub(fd, std::chrono::milliseconds(0)));
  CHECK(load().evicted == 0);
}

TEST_CASE_METHOD(OneSessionHub,
                 "connections in their handshake take no session slot, and a device past the "
                 "session cap is told to retry",
                 "[transport][net][limits]") {
  Conns silent;
  for (int i = 0; i < 5; ++i) silent.open("127.0.0.2", server->port());
  REQUIRE(load_reaches([](const HubLoad& l) { return l.handshakes == 5; }));
  test::TestDevice a = enrolled("I0011");
  test::TestDevice b = enrolled("I0021");
  Result<SyncReport> first = sync(a);  // the one slot is free: handshakes do not hold it
  INFO(first.status().to_string());
  REQUIRE(first.ok());
  RawClient held(a.enrollment);  // a session that holds the one slot
  REQUIRE_FALSE(held.connect(server->port()));
  held.hello(a.enrollment, a.engine().stats()->last_own_seq);
  Result<SyncReport> r = sync(b);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message() == "the hub is busy, retry in 10 s");
  CHECK(hub_busy_retry(r.status()) == std::chrono::seconds(10));
  CHECK(logged("outcome=unavailable: busy, retry in 10 s"));
}
