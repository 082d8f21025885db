#include "net/framed.h"

#include <boost/asio/error.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

namespace vs::net {

Status net_error(const boost::system::error_code& ec, const std::string& what) {
  std::string msg = what + ": " + ec.message();
  // A failed TLS verification or a protocol mismatch is an authentication problem, not the link.
  if (ec.category() == asio::error::get_ssl_category() && ec != asio::ssl::error::stream_truncated) {
    return Status::rejected(msg);
  }
  return Status::unavailable(msg);
}

asio::awaitable<Result<wire::Frame>> read_frame(TlsStream& stream) {
  char header[wire::kFrameHeaderBytes];
  auto [ec, n] = co_await asio::async_read(stream, asio::buffer(header), use_tuple);
  if (ec) co_return net_error(ec, "reading a frame");
  Result<std::size_t> length = wire::body_length(std::string_view(header, sizeof header));
  if (!length.ok()) co_return length.status();
  std::string body(length.value(), '\0');  // bounded by kMaxFrameBytes, checked above
  auto [ec2, n2] = co_await asio::async_read(stream, asio::buffer(body), use_tuple);
  if (ec2) co_return net_error(ec2, "reading a frame");
  co_return wire::frame_from_body(body);
}

asio::awaitable<Status> write_frames(TlsStream& stream, std::vector<wire::Frame> frames) {
  std::string bytes;
  for (const wire::Frame& f : frames) wire::append_frame(bytes, f);
  if (bytes.empty()) co_return Status();
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(bytes), use_tuple);
  if (ec) co_return net_error(ec, "writing a frame");
  co_return Status();
}

asio::awaitable<Status> tls_handshake(TlsStream& stream, asio::ssl::stream_base::handshake_type type) {
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
