#include "net/framed.h"

#include <boost/asio/error.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

namespace vs::net {

Status net_error(const boost::system::error_code& ec, const std::string& what) {
  std::string msg = what + ": " + ec.message();
  // A failed TLS verification or a protocol mismatch is an authentication problem, not the link.
  if (ec.category() == asio::error::get_ssl_category() &&
      ec != asio::ssl::error::stream_truncated) {
    return Status::rejected(msg);
  }
  return Status::unavailable(msg);
}

namespace {

// How much of a frame moves under one deadline: on a 2G-class link (~5 KB/s) a few seconds.
constexpr std::size_t kChunkBytes = std::size_t{16} * 1024;

asio::awaitable<Status> read_exact(TlsStream* stream, char* data, std::size_t n) {
  auto [ec, got] = co_await asio::async_read(*stream, asio::buffer(data, n), use_tuple);
  if (ec) co_return net_error(ec, "reading a frame");
  co_return Status();
}

asio::awaitable<Status> write_exact(TlsStream* stream, const char* data, std::size_t n) {
  auto [ec, put] = co_await asio::async_write(*stream, asio::buffer(data, n), use_tuple);
  if (ec) co_return net_error(ec, "writing a frame");
  co_return Status();
}

}  // namespace

asio::awaitable<Result<wire::Frame>> read_frame(TlsStream& stream, std::chrono::milliseconds first,
                                                std::chrono::milliseconds progress) {
  char header[wire::kFrameHeaderBytes];
  Status s =
      co_await within(first, read_exact(&stream, header, sizeof header), "waiting for a message");
  if (!s.ok()) co_return s;
  Result<std::size_t> length = wire::body_length(std::string_view(header, sizeof header));
  if (!length.ok()) co_return length.status();
  // The body grows as its bytes arrive: a header claiming megabytes costs nothing until they come.
  std::string body;
  for (std::size_t at = 0; at < length.value(); at += kChunkBytes) {
    const std::size_t n = std::min(kChunkBytes, length.value() - at);
    body.resize(at + n);
    s = co_await within(progress, read_exact(&stream, body.data() + at, n), "receiving a message");
    if (!s.ok()) co_return s;
  }
  co_return wire::frame_from_body(body);
}

asio::awaitable<Status> write_frames(TlsStream& stream, std::vector<wire::Frame> frames,
                                     std::chrono::milliseconds progress) {
  std::string bytes;
  for (const wire::Frame& f : frames) wire::append_frame(bytes, f);
  for (std::size_t at = 0; at < bytes.size(); at += kChunkBytes) {
    const std::size_t n = std::min(kChunkBytes, bytes.size() - at);
    Status s =
        co_await within(progress, write_exact(&stream, bytes.data() + at, n), "sending a message");
    if (!s.ok()) co_return s;
  }
  co_return Status();
}

asio::awaitable<Status> tls_handshake(TlsStream& stream,
                                      asio::ssl::stream_base::handshake_type type) {
  auto [ec] = co_await stream.async_handshake(type, use_tuple);
  if (ec) co_return net_error(ec, "TLS handshake");
  co_return Status();
}

asio::awaitable<Status> tls_close(TlsStream& stream) {
  auto [ec] = co_await stream.async_shutdown(use_tuple);
  // A peer that closes the TCP connection without its close_notify is common and harmless here:
  // every message was framed and acknowledged.
  if (ec && ec != asio::ssl::error::stream_truncated && ec != asio::error::eof) {
    co_return net_error(ec, "TLS close");
  }
  co_return Status();
}

TcpBytes tcp_bytes(asio::ip::tcp::socket& socket) {
  if (!socket.is_open()) return TcpBytes{};
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  tcp_bytes_of(socket.native_handle(), sent, received);
  return TcpBytes{sent, received};
}

}  // namespace vs::net
