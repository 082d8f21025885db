// The hub's store queue over real TLS 1.3 on 127.0.0.1 (schema/PROTOCOL.md, "The store
// queue"): past its bound a session is told "busy, retry in N s" at once, and a queued push
// that waited past its deadline, or whose session a newer one replaced, is dropped, not run.
// A second connection to the hub's store holds its write lock, so that a push stays on the
// store thread for as long as a test needs.
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "live_hub.h"
#include "wire/batch.h"

using namespace vs;
using test::LiveHub;
using test::RawClient;

namespace {

// Holds the hub store's write lock from a second connection (as visitsync-admin could), so
// that the next push on the hub's store thread waits for it: SQLite's busy timeout (5 s)
// bounds the wait.
class StoreLock {
 public:
  explicit StoreLock(HubStore& admin) {
    std::promise<void> locked;
    std::future<void> is_locked = locked.get_future();
    thread_ = std::thread([&admin, &locked, this] {
      Status s = admin.engine().transaction([&]() -> Status {
        locked.set_value();
        gate_.get_future().wait();
        return Status();
      });
      (void)s;
    });
    REQUIRE(is_locked.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  }
  ~StoreLock() { release(); }
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  StoreLock(StoreLock&&) = delete;
  StoreLock& operator=(StoreLock&&) = delete;
  void release() {
    if (!thread_.joinable()) return;
    gate_.set_value();
    thread_.join();
  }

 private:
  std::promise<void> gate_;
  std::thread thread_;
};

// A push of every op of the device.
wire::Frame push_of(test::TestDevice& d) {
  Result<std::vector<Op>> ops = d.engine().ops_after(0, 1000);
  REQUIRE(ops.ok());
  REQUIRE_FALSE(ops->empty());
  wire::Push p;
  p.batch = wire::encode_batch(ops.value());
  return wire::encode(p);
}

test::TestDevice with_a_visit(LiveHub& hub, const std::string& inspector) {
  test::TestDevice d = hub.enrolled(inspector);
  REQUIRE(hub.sync(d).ok());  // the templates and the school come with the first pull
  Result<std::string> id = d.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(id.ok());
  test::answer_required(*d.in, id.value());
  return d;
}

// A session under way for the device, its hello answered.
std::unique_ptr<RawClient> session_of(LiveHub& hub, test::TestDevice& d) {
  auto c = std::make_unique<RawClient>(d.enrollment);
  REQUIRE_FALSE(c->connect(hub.server->port()));
  c->hello(d.enrollment, d.engine().stats()->last_own_seq);
  return c;
}

struct TinyQueueHub : LiveHub {
  TinyQueueHub()
      : LiveHub("127.0.0.1", std::chrono::milliseconds(0),
                [](HubOptions& o) { o.max_store_queue = 1; }) {}
};

struct ShortWaitHub : LiveHub {
  ShortWaitHub()
      : LiveHub("127.0.0.1", std::chrono::milliseconds(0),
                [](HubOptions& o) { o.store_wait_limit = std::chrono::milliseconds(300); }) {}
};

}  // namespace

TEST_CASE_METHOD(TinyQueueHub,
                 "past the store queue's bound a session is told busy, retry in N s, instead of "
                 "queued",
                 "[transport][net][limits]") {
  test::TestDevice a = with_a_visit(*this, "I0011");
  test::TestDevice b = with_a_visit(*this, "I0021");
  std::unique_ptr<RawClient> pushing = session_of(*this, a);
  {
    StoreLock lock(*admin_store);
    pushing->send(push_of(a));  // its step holds the store thread until the lock goes
    REQUIRE(load_reaches([](const HubLoad& l) { return l.store_queue == 1; }));
    const auto t0 = std::chrono::steady_clock::now();
    Result<SyncReport> r = sync(b);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));  // not queued
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kUnavailable);
    CHECK_THAT(r.status().message(), Catch::StartsWith("the hub is busy, retry in "));
    REQUIRE(hub_busy_retry(r.status()));
    CHECK(hub_busy_retry(r.status())->count() >= 1);
  }
  Result<wire::Frame> ack = pushing->receive();
  REQUIRE(ack.ok());
  CHECK(ack->type == wire::MsgType::kPushAck);
  const HubLoad l = load();
  CHECK(l.store_queue_peak == 1);
  CHECK(l.busy >= 1);
  // The queue free again, the refused device syncs: nothing was lost.
  Result<SyncReport> again = sync(b);
  INFO(again.status().to_string());
  REQUIRE(again.ok());
  CHECK(admin_store->device(b.enrollment.device_id)->acked_seq == b.engine().stats()->last_own_seq);
}

TEST_CASE_METHOD(ShortWaitHub, "a push that waited past its deadline is dropped, not run",
                 "[transport][net][limits]") {
  test::TestDevice a = with_a_visit(*this, "I0011");
  test::TestDevice b = with_a_visit(*this, "I0021");
  std::unique_ptr<RawClient> first = session_of(*this, a);
  std::unique_ptr<RawClient> late = session_of(*this, b);
  {
    StoreLock lock(*admin_store);
    first->send(push_of(a));
    REQUIRE(load_reaches([](const HubLoad& l) { return l.store_queue == 1; }));
    late->send(push_of(b));  // queued behind the first
    REQUIRE(load_reaches([](const HubLoad& l) { return l.store_queue == 2; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // past the 300 ms limit
  }
  Result<wire::Frame> ack = first->receive();
  REQUIRE(ack.ok());
  CHECK(ack->type == wire::MsgType::kPushAck);
  Result<wire::Frame> answer = late->receive();
  REQUIRE(answer.ok());
  REQUIRE(answer->type == wire::MsgType::kRefused);
  Result<wire::Refused> refused = wire::decode<wire::Refused>(answer.value());
  REQUIRE(refused.ok());
  CHECK(refused->code == static_cast<std::int32_t>(Code::kUnavailable));
  CHECK(wire::busy_retry_s(refused->reason));
  CHECK(admin_store->device(b.enrollment.device_id)->acked_seq == 0);  // never run
  CHECK(admin_store->device(a.enrollment.device_id)->acked_seq > 0);
  CHECK(load().busy == 1);
}

TEST_CASE_METHOD(LiveHub, "a queued push of a session a newer one replaced is dropped, not run",
                 "[transport][net][limits]") {
  test::TestDevice a = with_a_visit(*this, "I0011");
  test::TestDevice b = with_a_visit(*this, "I0021");
  std::unique_ptr<RawClient> first = session_of(*this, a);
  std::unique_ptr<RawClient> old = session_of(*this, b);
  RawClient newer(b.enrollment);
  {
    StoreLock lock(*admin_store);
    first->send(push_of(a));
    REQUIRE(load_reaches([](const HubLoad& l) { return l.store_queue == 1; }));
    old->send(push_of(b));
    REQUIRE(load_reaches([](const HubLoad& l) { return l.store_queue == 2; }));
    REQUIRE_FALSE(newer.connect(server->port()));  // the device's link came back
    REQUIRE(logged("replaces its previous session"));
  }
  Result<wire::Frame> ack = first->receive();
  REQUIRE(ack.ok());
  CHECK(ack->type == wire::MsgType::kPushAck);
  CHECK(load_reaches([](const HubLoad& l) { return l.abandoned == 1 && l.store_queue == 0; }));
  CHECK(logged("outcome=unavailable: the session closed before its turn on the store"));
  CHECK(admin_store->device(b.enrollment.device_id)->acked_seq == 0);  // never run
}
