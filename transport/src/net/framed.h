// Frames over a TLS stream, as C++20 coroutines on Boost.Asio (no callback chains). Every read,
// write, handshake and close runs under a deadline through within(); an error code becomes a
// Status at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <visitsync/status.h>

#include "wire/frame.h"

namespace vs::net {

namespace asio = boost::asio;
using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;
// Named like Asio's own completion tokens (use_awaitable), which it stands beside.
inline constexpr auto use_tuple =  // NOLINT(readability-identifier-naming)
    asio::as_tuple(asio::use_awaitable);

// Runs `op`; if `limit` passes first, `op` is cancelled and the result is kUnavailable.
template <class R>
asio::awaitable<R> within(std::chrono::milliseconds limit, asio::awaitable<R> op,
                          const char* what) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, limit);
  auto first = co_await (std::move(op) || timer.async_wait(use_tuple));
  if (first.index() == 1) {
    co_return R(Status::unavailable(std::string(what) + ": no progress for " +
                                    std::to_string(limit.count()) + " ms"));
  }
  co_return std::get<0>(std::move(first));
}

// A Status from an Asio or OpenSSL error code.
Status net_error(const boost::system::error_code& ec, const std::string& what);

// Reads one frame: the header within `first` (how long the peer may stay silent), checked
// against the size limit, then the body in chunks, each within `progress`: a slow link that
// keeps moving is never cut, a stalled one is.
asio::awaitable<Result<wire::Frame>> read_frame(TlsStream& stream, std::chrono::milliseconds first,
                                                std::chrono::milliseconds progress);
// Writes frames in chunks, each within `progress`.
asio::awaitable<Status> write_frames(TlsStream& stream, std::vector<wire::Frame> frames,
                                     std::chrono::milliseconds progress);
asio::awaitable<Status> tls_handshake(TlsStream& stream,
                                      asio::ssl::stream_base::handshake_type type);
asio::awaitable<Status> tls_close(TlsStream& stream);

// TCP payload bytes sent and received on the socket so far (TLS records, handshake included),
// from the kernel's TCP_INFO.
struct TcpBytes {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
};
TcpBytes tcp_bytes(asio::ip::tcp::socket& socket);
// The same from a file descriptor (tcp_info.cc: the kernel's struct, apart from Asio's headers).
void tcp_bytes_of(int fd, std::uint64_t& sent, std::uint64_t& received);

}  // namespace vs::net
