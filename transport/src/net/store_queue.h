// The hub's store thread with a bounded queue (schema/PROTOCOL.md, "The store queue"): every
// protocol step that touches the HubStore runs here, one at a time. The queue counts the steps
// posted and not yet finished; past its bound a step is refused at once with a "busy, retry in
// N s" status instead of waiting, and a step whose session has closed, or that has waited past
// its deadline, is dropped when its turn comes instead of run.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <visitsync/status.h>

#include "wire/frame.h"

namespace vs::net {

struct StoreQueueLimits {
  std::size_t max_steps = 1000;                // queued or running; 0 is taken as 1
  std::chrono::milliseconds max_wait{20'000};  // from posted to started
};

// What a queued step knows of its session. The io thread sets `closed` when it ends the
// session (a newer session of the same device replaced it); the store thread reads it.
struct StepOwner {
  std::atomic<bool> closed{false};
};

class StoreQueue {
 public:
  using Frames = std::vector<wire::Frame>;
  using Step = std::function<Result<Frames>()>;

  explicit StoreQueue(StoreQueueLimits limits);
  // Waits for the steps already posted (run or dropped).
  ~StoreQueue();
  StoreQueue(const StoreQueue&) = delete;
  StoreQueue& operator=(const StoreQueue&) = delete;
  StoreQueue(StoreQueue&&) = delete;
  StoreQueue& operator=(StoreQueue&&) = delete;

  // Runs `step` on the store thread and resumes the caller on its own executor with the
  // step's result. kUnavailable with wire::busy_reason() when max_steps are already queued or
  // running (the step is not posted), or when it waited longer than max_wait (not run);
  // kUnavailable "the session closed before its turn" when `owner->closed` was set by then.
  // Call from one thread (the io thread); `step` may use what the caller keeps alive
  // across the co_await.
  boost::asio::awaitable<Result<Frames>> run(std::shared_ptr<const StepOwner> owner, Step step);

  // Steps posted and not finished; the most there ever were; steps refused or dropped as busy;
  // steps dropped because their session had closed. Any thread.
  std::size_t queued() const { return queued_.load(); }
  std::size_t peak() const { return peak_.load(); }
  std::uint64_t busy() const { return busy_.load(); }
  std::uint64_t abandoned() const { return abandoned_.load(); }
  // Steps run so far, and the store thread's time running them (what the store alone allows:
  // with the store busy for all of a stretch, nothing can go faster). Any thread.
  std::uint64_t steps_run() const { return steps_run_.load(); }
  std::chrono::microseconds busy_time() const { return std::chrono::microseconds(busy_us_.load()); }
  // The retry hint for a device turned away now: the expected time to work off the queue.
  std::chrono::seconds retry_hint() const;
  // Waits until every posted step has run or been dropped.
  void join() { pool_.join(); }

 private:
  Status busy_status() const;
  // The step's turn on the store thread: dropped, or run and timed.
  boost::asio::awaitable<Result<Frames>> take_turn(std::shared_ptr<const StepOwner> owner,
                                                   Step step,
                                                   std::chrono::steady_clock::time_point posted);

  StoreQueueLimits limits_;
  boost::asio::thread_pool pool_{1};  // SQLite work: one thread, off the sockets' thread
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> peak_{0};
  std::atomic<std::uint64_t> busy_{0};
  std::atomic<std::uint64_t> abandoned_{0};
  std::atomic<std::int64_t> mean_step_us_{0};  // a moving average of the steps' run time
  std::atomic<std::uint64_t> steps_run_{0};
  std::atomic<std::int64_t> busy_us_{0};
};

}  // namespace vs::net
