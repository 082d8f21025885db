#include "support/fault_proxy.h"

#include <algorithm>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace vs::test {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

}  // namespace

FaultProxy::FaultProxy(std::uint16_t target) : target_(target) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      listen(listener_, 8) != 0) {
    if (listener_ >= 0) close(listener_);
    throw std::runtime_error("fault proxy: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof a;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { loop(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  thread_.join();
  close(listener_);
}

void FaultProxy::cut_every(std::chrono::milliseconds period) {
  cut_epoch_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count();
  cut_period_ms_ = period.count();
}

void FaultProxy::loop() {
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, 10) <= 0) continue;
    const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ++connections_;
    if (down_) {
      ++cuts_;
      close(client);
      continue;
    }
    const auto stall_end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (stalled_ && !stop_ && std::chrono::steady_clock::now() < stall_end)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const int hub = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(target_);
    if (hub >= 0 && connect(hub, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        forward(client, hub, budget_.exchange(SIZE_MAX), flip_at_.exchange(SIZE_MAX))) {
      ++cuts_;
    }
    if (hub >= 0) close(hub);
    close(client);
  }
}

bool FaultProxy::forward(int client, int hub, std::size_t budget, std::size_t flip_at) {
  using Clock = std::chrono::steady_clock;
  std::size_t passed = 0;
  char buf[16384];
  const Clock::time_point opened = Clock::now();
  const Clock::time_point deadline = opened + std::chrono::seconds(60);
  while (!stop_ && Clock::now() < deadline) {
    if (const std::int64_t period = cut_period_ms_; period > 0) {
      // A cut instant passed since the connection opened.
      const auto epoch = Clock::time_point(std::chrono::nanoseconds(cut_epoch_ns_.load()));
      const auto slot = [&](Clock::time_point t) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(t - epoch).count() / period;
      };
      if (slot(Clock::now()) != slot(opened)) return true;
    }
    // Under a rate, at most what the time since the connection opened allows, in slices of a
    // hundredth of a second's worth.
    std::size_t most = std::min(sizeof buf, budget - passed);
    if (const std::size_t rate = rate_; rate > 0) {
      const auto elapsed_us =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - opened).count();
      const auto allowed = static_cast<std::size_t>(static_cast<double>(rate) *
                                                    static_cast<double>(elapsed_us) / 1e6);
      if (passed >= allowed) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      most = std::min({most, allowed - passed, std::max<std::size_t>(rate / 100, 1)});
    }
    pollfd fds[2] = {{client, POLLIN, 0}, {hub, POLLIN, 0}};
    if (poll(fds, 2, 10) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = read(fds[i].fd, buf, most);
      if (n <= 0) return false;
      if (flip_at >= passed && flip_at < passed + static_cast<std::size_t>(n)) {
        buf[flip_at - passed] = static_cast<char>(buf[flip_at - passed] ^ 0x5A);
        ++flips_;
      }
      if (write(fds[1 - i].fd, buf, static_cast<std::size_t>(n)) != n) return false;
      passed += static_cast<std::size_t>(n);
      if (passed >= budget) return true;
    }
  }
  return false;
}

}  // namespace vs::test
