// The fault proxy itself (tests/support/fault_proxy.h), in front of an echo server on
// 127.0.0.1: delays per direction, a cut at byte N with bytes in flight lost, a flipped byte,
// and many connections at once.
#include "support/fault_proxy.h"

#include <atomic>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

using vs::test::FaultProxy;
using Steady = std::chrono::steady_clock;

namespace {

// Echoes every connection's bytes back until it closes; up to 16 connections at once, for as
// long as the object lives.
class Echo {
 public:
  Echo() {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = vs::test::loopback_address(0);
    REQUIRE(bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(listener_, 16) == 0);
    socklen_t len = sizeof a;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      std::vector<std::thread> each;
      while (!stop_) {
        pollfd p{listener_, POLLIN, 0};
        if (poll(&p, 1, 10) <= 0) continue;
        const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        each.emplace_back([this, fd] {
          char buf[4096];
          for (;;) {
            pollfd q{fd, POLLIN, 0};
            if (stop_) break;
            if (poll(&q, 1, 10) <= 0) continue;
            const ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0 || write(fd, buf, static_cast<std::size_t>(n)) != n) break;
          }
          close(fd);
        });
      }
      for (std::thread& t : each) t.join();
    });
  }
  ~Echo() {
    stop_ = true;
    thread_.join();
    close(listener_);
  }
  std::uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

int dial(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = vs::test::loopback_address(port);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// Reads until `want` bytes came, the peer closed, or 5 s passed.
std::string read_up_to(int fd, std::size_t want) {
  std::string got;
  const auto deadline = Steady::now() + std::chrono::seconds(5);
  char buf[4096];
  while (got.size() < want && Steady::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

}  // namespace

TEST_CASE("the fault proxy delays each direction by its own time", "[proxy]") {
  Echo echo;
  FaultProxy proxy(echo.port());
  proxy.set_delay(std::chrono::milliseconds(120), std::chrono::milliseconds(60));
  const int fd = dial(proxy.port());
  const auto sent = Steady::now();
  REQUIRE(write(fd, "ping", 4) == 4);
  CHECK(read_up_to(fd, 4) == "ping");
  // A round trip is at least both delays; a fault proxy adds them, it does not shorten them.
  CHECK(Steady::now() - sent >= std::chrono::milliseconds(180));
  close(fd);
}

TEST_CASE("the fault proxy cuts at byte N, losing what was still in flight", "[proxy]") {
  Echo echo;
  FaultProxy proxy(echo.port());
  proxy.set_delay(std::chrono::milliseconds(50), std::chrono::milliseconds(50));
  proxy.cut_next_after_bytes(3000);  // 3,000 bytes in, both ways together
  const int fd = dial(proxy.port());
  const std::string data(2500, 'x');
  REQUIRE(write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  // 2,500 bytes go in, then at most 500 of their echo before the cut; bytes still delayed when
  // it comes are lost, so fewer than 500 may arrive, never more.
  const std::string back = read_up_to(fd, data.size());
  CHECK(back.size() <= 500);
  CHECK(proxy.cuts() == 1);
  close(fd);
  // The next connection is whole again.
  const int again = dial(proxy.port());
  REQUIRE(write(again, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  CHECK(read_up_to(again, data.size()) == data);
  close(again);
}

TEST_CASE("the fault proxy flips the byte it is told to, once", "[proxy]") {
  Echo echo;
  FaultProxy proxy(echo.port());
  proxy.flip_next_at(2);
  const int fd = dial(proxy.port());
  REQUIRE(write(fd, "abcd", 4) == 4);
  const std::string back = read_up_to(fd, 4);
  CHECK(back == std::string("ab") + static_cast<char>('c' ^ 0x5A) + "d");
  CHECK(proxy.flips() == 1);
  close(fd);
}

TEST_CASE("the fault proxy serves many connections at once, each delayed", "[proxy]") {
  Echo echo;
  FaultProxy proxy(echo.port());
  proxy.set_delay(std::chrono::milliseconds(100), std::chrono::milliseconds(100));
  std::vector<int> fds;
  for (int i = 0; i < 10; ++i) fds.push_back(dial(proxy.port()));
  const auto sent = Steady::now();
  for (int i = 0; i < 10; ++i) {
    const std::string msg = "connection " + std::to_string(i);
    REQUIRE(write(fds[static_cast<std::size_t>(i)], msg.data(), msg.size()) ==
            static_cast<ssize_t>(msg.size()));
  }
  for (int i = 0; i < 10; ++i) {
    const std::string msg = "connection " + std::to_string(i);
    CHECK(read_up_to(fds[static_cast<std::size_t>(i)], msg.size()) == msg);
  }
  // Served side by side: ten round trips of 200 ms took far less than ten times one.
  CHECK(Steady::now() - sent < std::chrono::milliseconds(1500));
  for (int fd : fds) close(fd);
  CHECK(proxy.connections() == 10);
}

TEST_CASE("the fault proxy carries each direction at the rate it is given, and no faster",
          "[proxy]") {
  Echo echo;
  FaultProxy proxy(echo.port());
  proxy.set_rate(100'000);
  const int fd = dial(proxy.port());
  const std::string data(300'000, 'r');
  const auto sent = Steady::now();
  std::thread writer([&] {
    for (std::size_t at = 0; at < data.size();) {
      const ssize_t n = write(fd, data.data() + at, std::min<std::size_t>(8192, data.size() - at));
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
  });
  std::string back;
  const auto deadline = Steady::now() + std::chrono::seconds(10);
  char buf[8192];
  while (back.size() < data.size() && Steady::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    back.append(buf, static_cast<std::size_t>(n));
  }
  writer.join();
  const double took = std::chrono::duration<double>(Steady::now() - sent).count();
  std::printf("300 KB each way at 100 KB/s: %.2f s\n", took);
  CHECK(back == data);
  // Not faster than the rate (a burst after the connection's first idle moments included), and
  // not far below it: a bench's link time is the bytes over this rate.
  CHECK(took >= 2.8);
  CHECK(took <= 4.5);
  close(fd);
}
