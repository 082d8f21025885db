#include "net/store_queue.h"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "wire/messages.h"

namespace vs::net {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

StoreQueue::StoreQueue(StoreQueueLimits limits) : limits_(limits) {
  limits_.max_steps = std::max<std::size_t>(limits_.max_steps, 1);
}

StoreQueue::~StoreQueue() { pool_.join(); }

std::chrono::seconds StoreQueue::retry_hint() const {
  // The queue as it stands, at the pace steps have been running: devices told to come back
  // then find it worked off. At least 1 s; at most 10 minutes, however slow the store was.
  const std::int64_t us = static_cast<std::int64_t>(queued_.load()) * mean_step_us_.load();
  return std::chrono::seconds(std::clamp<std::int64_t>((us + 999'999) / 1'000'000, 1, 600));
}

Status StoreQueue::busy_status() const {
  return Status::unavailable(wire::busy_reason(static_cast<std::uint32_t>(retry_hint().count())));
}

asio::awaitable<Result<StoreQueue::Frames>> StoreQueue::run(std::shared_ptr<const StepOwner> owner,
                                                            Step step) {
  // Only the io thread adds; the store thread only takes away, so the count can have fallen
  // since this read, never risen: the bound holds.
  const std::size_t before = queued_.load();
  if (before >= limits_.max_steps) {
    ++busy_;
    co_return busy_status();
  }
  queued_.fetch_add(1);
  std::size_t peak = peak_.load();
  while (before + 1 > peak && !peak_.compare_exchange_weak(peak, before + 1)) {
  }
  Result<Frames> out = co_await asio::co_spawn(
      pool_, take_turn(std::move(owner), std::move(step), Clock::now()), asio::use_awaitable);
  co_return out;
}

asio::awaitable<Result<StoreQueue::Frames>> StoreQueue::take_turn(
    std::shared_ptr<const StepOwner> owner, Step step, Clock::time_point posted) {
  class Leave {  // the step leaves the count however it ends
   public:
    explicit Leave(std::atomic<std::size_t>& queued) : queued_(queued) {}
    ~Leave() { queued_.fetch_sub(1); }
    Leave(const Leave&) = delete;
    Leave& operator=(const Leave&) = delete;
    Leave(Leave&&) = delete;
    Leave& operator=(Leave&&) = delete;

   private:
    std::atomic<std::size_t>& queued_;
  };
  const Leave leave(queued_);
  // Work nobody waits for any more is not done: its session is gone (a newer session of the
  // device replaced it and will send the same work again), or it waited so long that its
  // device, which gives up after 30 s without progress, may be gone too and would then retry
  // it: run anyway, it would be done twice and delay everything behind it.
  if (owner->closed.load()) {
    ++abandoned_;
    co_return Status::unavailable("the session closed before its turn on the store");
  }
  const Clock::time_point started = Clock::now();
  if (started - posted > limits_.max_wait) {
    ++busy_;
    co_return busy_status();
  }
  Result<Frames> out = step();
  const std::int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
  // Only this thread writes the average and the totals: a plain read, modify, write is enough.
  const std::int64_t mean = mean_step_us_.load();
  mean_step_us_.store(mean == 0 ? us : mean + (us - mean) / 8);
  steps_run_.store(steps_run_.load() + 1);
  busy_us_.store(busy_us_.load() + us);
  co_return out;
}

}  // namespace vs::net
