// TCP_INFO byte counters. Kept apart: <linux/tcp.h> has the counters but clashes with the
// <netinet/tcp.h> that Asio includes.
#include <cstdint>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace vs::net {

void tcp_bytes_of(int fd, std::uint64_t& sent, std::uint64_t& received) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0) {
    sent = info.tcpi_bytes_acked;
    received = info.tcpi_bytes_received;
  }
}

}  // namespace vs::net
