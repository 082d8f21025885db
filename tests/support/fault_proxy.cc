#include "support/fault_proxy.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace vs::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMostOpen = 64;

// Bytes read from one side, and when they are due at the other.
struct Chunk {
  Clock::time_point due;
  std::string bytes;
};

// Writes all of `bytes` to a blocking socket; false when the peer is gone.
bool send_all(int fd, const char* bytes, std::size_t size) {
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = send(fd, bytes + done, size - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

sockaddr_in loopback_address(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// A connection's thread, and whether it has ended (so that the accepting loop joins it).
struct FaultProxy::Worker {
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> done = std::make_shared<std::atomic<bool>>(false);
};

FaultProxy::FaultProxy(std::uint16_t target, std::uint16_t listen_port) : target_(target) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int yes = 1;
  sockaddr_in a = loopback_address(listen_port);
  if (listener_ < 0 || setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0 ||
      bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      listen(listener_, kMostOpen) != 0) {
    if (listener_ >= 0) close(listener_);
    throw std::runtime_error("fault proxy: cannot listen on 127.0.0.1:" +
                             std::to_string(listen_port));
  }
  socklen_t len = sizeof a;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { loop(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  thread_.join();
  for (Worker& w : workers_) w.thread.join();
  close(listener_);
}

void FaultProxy::cut_every(std::chrono::milliseconds period) {
  cut_epoch_ns_ =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  cut_period_ms_ = period.count();
}

void FaultProxy::set_delay(std::chrono::milliseconds to_target,
                           std::chrono::milliseconds to_client) {
  delay_ms_[0] = to_target.count();
  delay_ms_[1] = to_client.count();
}

void FaultProxy::loop() {
  while (!stop_) {
    // Threads of ended connections are joined as the loop goes, so that they do not pile up.
    std::erase_if(workers_, [](Worker& w) {
      if (!*w.done) return false;
      w.thread.join();
      return true;
    });
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, 10) <= 0) continue;
    const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ++connections_;
    if (down_ || workers_.size() >= kMostOpen) {
      ++cuts_;
      close(client);
      continue;
    }
    Worker& w = workers_.emplace_back();
    w.thread = std::thread([this, client, budget = budget_.exchange(SIZE_MAX),
                            flip_at = flip_at_.exchange(SIZE_MAX), done = w.done] {
      serve(client, budget, flip_at);
      *done = true;
    });
  }
}

void FaultProxy::serve(int client, std::size_t budget, std::size_t flip_at) {
  const auto stall_end = Clock::now() + std::chrono::seconds(60);
  while (stalled_ && !stop_ && Clock::now() < stall_end)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const int target = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback_address(target_);
  if (target >= 0 && connect(target, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      forward(client, target, budget, flip_at)) {
    ++cuts_;
  }
  if (target >= 0) close(target);
  close(client);
}

bool FaultProxy::cut_due(Clock::time_point opened) const {
  const std::int64_t period = cut_period_ms_;
  if (period <= 0) return false;
  // A cut instant passed since the connection opened.
  const auto epoch = Clock::time_point(std::chrono::nanoseconds(cut_epoch_ns_.load()));
  const auto slot = [&](Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - epoch).count() / period;
  };
  return slot(Clock::now()) != slot(opened);
}

bool FaultProxy::forward(int client, int target, std::size_t budget, std::size_t flip_at) {
  const int fd[2] = {client, target};
  std::deque<Chunk> in_flight[2];  // [i]: read from fd[i], due at fd[1 - i]
  bool open[2] = {true, true};     // fd[i] has not ended
  std::size_t got[2] = {0, 0};     // bytes read from fd[i]
  std::size_t passed = 0;          // both together
  char buf[16384];
  const Clock::time_point opened = Clock::now();
  const Clock::time_point deadline = opened + std::chrono::seconds(60);
  double credit[2] = {0, 0};  // bytes each direction may take now, under a rate
  Clock::time_point refilled = opened;
  while (!stop_ && Clock::now() < deadline) {
    if (cut_due(opened)) return true;
    const Clock::time_point now = Clock::now();
    Clock::time_point wake = now + std::chrono::milliseconds(10);
    for (int i = 0; i < 2; ++i) {
      std::deque<Chunk>& q = in_flight[i];
      for (; !q.empty() && q.front().due <= now; q.pop_front()) {
        if (!send_all(fd[1 - i], q.front().bytes.data(), q.front().bytes.size())) return false;
      }
      if (!open[i] && q.empty()) return false;  // a side ended, and all it sent has arrived
      if (!q.empty()) wake = std::min(wake, q.front().due);
    }
    if (passed >= budget) return true;
    // Under a rate, each direction takes what a bucket of a twentieth of a second's worth
    // holds, refilled at the rate: a link idle for a while does not then run faster, and the
    // bucket outlasts this loop's longest wait (10 ms), so a busy link runs at the rate.
    std::size_t allowed[2] = {SIZE_MAX, SIZE_MAX};
    const std::size_t rate = rate_;
    if (rate > 0) {
      const double dt = std::chrono::duration<double>(now - refilled).count();
      refilled = now;
      const double cap = std::max(static_cast<double>(rate) / 20, 1.0);
      for (int i = 0; i < 2; ++i) {
        credit[i] = std::min(credit[i] + static_cast<double>(rate) * dt, cap);
        allowed[i] = got[i] + static_cast<std::size_t>(credit[i]);
      }
    }
    pollfd fds[2];
    for (int i = 0; i < 2; ++i) fds[i] = {open[i] && got[i] < allowed[i] ? fd[i] : -1, POLLIN, 0};
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
    if (poll(fds, 2, static_cast<int>(std::clamp<std::int64_t>(wait, 0, 10))) <= 0) continue;
    for (int i = 0; i < 2 && passed < budget; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const std::size_t most = std::min({sizeof buf, budget - passed, allowed[i] - got[i]});
      const ssize_t n = read(fd[i], buf, most);
      if (n <= 0) {
        open[i] = false;
        continue;
      }
      const auto size = static_cast<std::size_t>(n);
      if (flip_at >= passed && flip_at < passed + size) {
        buf[flip_at - passed] = static_cast<char>(buf[flip_at - passed] ^ 0x5A);
        ++flips_;
      }
      passed += size;
      got[i] += size;
      if (rate > 0) credit[i] -= static_cast<double>(size);
      bytes_[i] += size;
      const std::chrono::milliseconds delay(delay_ms_[i].load());
      if (delay.count() == 0 && in_flight[i].empty()) {
        if (!send_all(fd[1 - i], buf, size)) return false;
      } else {
        in_flight[i].push_back({Clock::now() + delay, std::string(buf, size)});
      }
    }
  }
  return false;
}

}  // namespace vs::test
