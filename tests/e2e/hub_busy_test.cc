// `visitsync sync` against a hub too busy to serve it: the hub's "busy, retry in N s" is what
// the inspector reads, and the exit code is 3 (retry; nothing lost). The hub runs in this
// process, with a store queue of one step, so that the test can keep that step busy.
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include <visitsync/hub_store.h>
#include <visitsync/inspection.h>
#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>
#include <visitsync/transport/hub.h>

#include "support/process.h"
#include "support/test_support.h"

using namespace vs;

namespace {

std::string bin(const char* tool) { return std::string(VS_TOOLS_DIR) + "/" + tool; }

std::uint16_t free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

void ok(const char* tool, const std::vector<std::string>& args) {
  test::RunResult r = test::run(bin(tool), args);
  INFO(tool << " " << args[0] << " -> " << r.exit_code << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_CASE("visitsync sync shows a busy hub's retry hint and exits 3", "[e2e][sync]") {
  test::TempDir dir;
  const std::string hub = dir.file("hub");
  const std::uint16_t port = free_port();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  ok("visitsync-admin", {"init", "--data", hub, "--hub-address", address});
  for (const char* k : {"schools", "inspectors", "assignments"})
    ok("visitsync-admin", {"import", "--data", hub, k, test::sample_dir() + "/" + k + ".csv"});
  ok("visitsync-admin",
     {"template", "publish", "--data", hub, test::templates_dir() + "/school-conditions.json"});
  for (const char* who : {"a", "b"}) {
    const std::string file = dir.file(std::string(who) + ".json");
    ok("visitsync-admin", {"enroll-device", "--data", hub, "--inspector",
                           who[0] == 'a' ? "I0011" : "I0021", "--out", file});
    ok("visitsync", {"init", "--data", dir.file(who), "--enroll", file});
  }

  Result<std::unique_ptr<HubStore>> store = HubStore::open(hub);
  REQUIRE(store.ok());
  Result<std::unique_ptr<HubStore>> admin = HubStore::open(hub);  // a second connection
  REQUIRE(admin.ok());
  Result<HubTls> tls = load_hub_tls(hub);
  REQUIRE(tls.ok());
  boost::asio::io_context io;
  HubOptions o;
  o.max_store_queue = 1;
  Result<std::unique_ptr<HubServer>> server =
      HubServer::create(io, *store.value(), tls->ca_pem, tls->cert_pem, tls->key_pem, o);
  REQUIRE(server.ok());
  REQUIRE(server.value()->listen("127.0.0.1", port).ok());
  server.value()->start();
  std::thread io_thread([&] { io.run(); });
  auto queued = [&] {
    std::promise<std::size_t> p;
    std::future<std::size_t> f = p.get_future();
    boost::asio::post(io, [&] { p.set_value(server.value()->load().store_queue); });
    return f.get();
  };

  // Device a has a visit to push; the first sync brings its templates.
  ok("visitsync", {"sync", "--data", dir.file("a")});
  Result<std::unique_ptr<Inspection>> a = Inspection::open(dir.file("a"));
  REQUIRE(a.ok());
  Result<std::string> visit = a.value()->start_visit("S00011", "school-conditions");
  REQUIRE(visit.ok());
  test::answer_required(*a.value(), visit.value());
  Result<Enrollment> a_enrolled = read_enrollment_file(dir.file("a") + "/enrollment.json");
  REQUIRE(a_enrolled.ok());

  // The hub's store is locked by another connection (as visitsync-admin could hold it): a's
  // push waits on the store thread, the one step the queue takes.
  std::promise<void> release;
  std::promise<void> locked;
  std::thread holder([&] {
    Status s = admin.value()->engine().transaction([&]() -> Status {
      locked.set_value();
      release.get_future().wait();
      return Status();
    });
    (void)s;
  });
  locked.get_future().wait();
  Result<SyncReport> a_sync = Status::internal("not run");
  std::thread pushing([&] { a_sync = sync_with_hub(a.value()->engine(), a_enrolled.value(), {}); });
  // One step queued for 300 ms on end is the push (a hello takes a millisecond).
  int steady = 0;
  for (int i = 0; i < 1000 && steady < 30; ++i) {
    steady = queued() == 1 ? steady + 1 : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(steady == 30);
  test::RunResult busy = test::run(bin("visitsync"), {"sync", "--data", dir.file("b")});
  release.set_value();
  holder.join();
  pushing.join();
  INFO(busy.err);
  CHECK(busy.exit_code == 3);
  CHECK_THAT(busy.err, Catch::Contains("failed: the hub is busy, retry in "));
  CHECK_THAT(busy.err, Catch::Contains("(nothing is lost: sync again in "));
  CHECK(a_sync.ok());
  // With the store free, b syncs.
  test::RunResult again = test::run(bin("visitsync"), {"sync", "--data", dir.file("b")});
  INFO(again.err);
  CHECK(again.exit_code == 0);
  boost::asio::post(io, [&] { server.value()->shutdown(); });
  for (int i = 0; i < 500 && !io.stopped(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  io.stop();
  io_thread.join();
}
