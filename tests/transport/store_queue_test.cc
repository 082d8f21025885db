// The hub's store thread and its bounded queue (net/store_queue.h), without sockets: a step
// that holds the store thread on a gate stands for a slow SQLite transaction.
#include "net/store_queue.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <visitsync/transport/client.h>

#include "wire/messages.h"

using namespace vs;
namespace asio = boost::asio;
using net::StepOwner;
using net::StoreQueue;

namespace {

// One caller of the queue: its result, once the coroutine has it.
struct Call {
  std::shared_ptr<StepOwner> owner = std::make_shared<StepOwner>();
  std::atomic<bool> ran{false};
  std::promise<Result<StoreQueue::Frames>> result;
};

asio::awaitable<void> call(StoreQueue* q, Call* c, StoreQueue::Step step) {
  Result<StoreQueue::Frames> r = co_await q->run(c->owner, std::move(step));
  c->result.set_value(std::move(r));
}

// Posts a step to the queue from the io thread.
void start(asio::io_context& io, StoreQueue& q, Call& c, StoreQueue::Step step) {
  asio::co_spawn(io, call(&q, &c, std::move(step)), [](const std::exception_ptr&) {});
}

// A step that runs until the gate opens (and says when it has started).
StoreQueue::Step held(Call& c, std::promise<void>& started, std::shared_future<void> gate) {
  return [&c, &started, gate] {
    c.ran = true;
    started.set_value();
    gate.wait();
    return Result<StoreQueue::Frames>(StoreQueue::Frames{});
  };
}

StoreQueue::Step quick(Call& c) {
  return [&c] {
    c.ran = true;
    return Result<StoreQueue::Frames>(StoreQueue::Frames{});
  };
}

Result<StoreQueue::Frames> wait_for(Call& c) {
  std::future<Result<StoreQueue::Frames>> f = c.result.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return f.get();
}

// The io thread, with work kept so that it waits for the calls.
struct IoThread {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread{[this] { io.run(); }};
  ~IoThread() {
    work.reset();
    thread.join();
  }
  IoThread() = default;
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;
  IoThread(IoThread&&) = delete;
  IoThread& operator=(IoThread&&) = delete;
};

}  // namespace

TEST_CASE("a step that finds the queue full is answered busy at once, not queued",
          "[transport][store]") {
  IoThread t;
  StoreQueue q(net::StoreQueueLimits{/*max_steps=*/2, std::chrono::milliseconds(60'000)});
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  std::promise<void> started;
  Call first;
  Call second;
  Call third;
  start(t.io, q, first, held(first, started, gate));
  started.get_future().wait();
  start(t.io, q, second, quick(second));  // queued behind the first
  // The third is refused while the first two are still in: nothing waits for it.
  start(t.io, q, third, quick(third));
  Result<StoreQueue::Frames> refused = wait_for(third);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kUnavailable);
  CHECK_THAT(refused.status().message(), Catch::StartsWith("busy, retry in "));
  CHECK(wire::busy_retry_s(refused.status().message()) >= 1u);
  CHECK(q.queued() == 2);
  open.set_value();
  CHECK(wait_for(first).ok());
  CHECK(wait_for(second).ok());
  CHECK(second.ran);
  CHECK_FALSE(third.ran);
  CHECK(q.peak() == 2);
  CHECK(q.busy() == 1);
  CHECK(q.queued() == 0);
}

TEST_CASE("a queued step whose session closed, or that waited too long, is dropped, not run",
          "[transport][store]") {
  IoThread t;
  StoreQueue q(net::StoreQueueLimits{/*max_steps=*/10, std::chrono::milliseconds(200)});
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  std::promise<void> started;
  Call first;
  Call closed;
  Call stale;
  start(t.io, q, first, held(first, started, gate));
  started.get_future().wait();
  start(t.io, q, closed, quick(closed));
  start(t.io, q, stale, quick(stale));
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (q.queued() < 3 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(q.queued() == 3);
  closed.owner->closed = true;  // a newer session of its device replaced it
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // past the wait limit
  open.set_value();
  CHECK(wait_for(first).ok());
  Result<StoreQueue::Frames> c = wait_for(closed);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message() == "the session closed before its turn on the store");
  Result<StoreQueue::Frames> s = wait_for(stale);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == Code::kUnavailable);
  CHECK_THAT(s.status().message(), Catch::StartsWith("busy, retry in "));
  CHECK_FALSE(closed.ran);
  CHECK_FALSE(stale.ran);
  CHECK(q.abandoned() == 1);
  CHECK(q.busy() == 1);
  // A step that does not wait long runs.
  Call later;
  start(t.io, q, later, quick(later));
  CHECK(wait_for(later).ok());
  CHECK(later.ran);
}
