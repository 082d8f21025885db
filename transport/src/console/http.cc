#include "console/http.h"

#include <exception>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace vs::console {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);  // NOLINT
using Stream = beast::ssl_stream<beast::tcp_stream>;

// Pages hold no secret a cache should keep; only a page of this origin may style, show images,
// post forms; no script at all; never in a frame.
constexpr const char* kCsp =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

http::response<http::string_body> to_beast(Response r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "visitsync-console");
  res.set(http::field::content_type, r.content_type);
  res.set("Content-Security-Policy", kCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::strict_transport_security, "max-age=31536000");
  for (auto& [name, value] : r.headers) res.insert(name, value);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// The Request a page sees, or the status and message of a request refused before any page.
Response to_request(const http::request<http::string_body>& in, const std::string& peer,
                    Request& out) {
  out.peer = peer;
  out.method = std::string(in.method_string());
  if (in.method() != http::verb::get && in.method() != http::verb::post) {
    return Response::text(405, "method " + out.method + " is not served here\n");
  }
  if (Status s = parse_target(in.target(), out); !s.ok())
    return Response::text(400, "bad request: " + s.message() + "\n");
  if (auto c = in.find(http::field::cookie); c != in.end()) out.cookies = parse_cookies(c->value());
  if (auto a = in.find(http::field::authorization); a != in.end())
    out.authorization = std::string(a->value());
  if (in.method() == http::verb::post) {
    const auto type = in.find(http::field::content_type);
    std::string_view t;
    if (type != in.end()) t = type->value();
    if (t.substr(0, t.find(';')) != "application/x-www-form-urlencoded")
      return Response::text(415, "a form must be posted as application/x-www-form-urlencoded\n");
    Result<Fields> form = parse_form(in.body());
    if (!form.ok()) return Response::text(400, "bad form: " + form.status().message() + "\n");
    out.form = std::move(form.value());
  }
  return Response{0, "", "", {}};
}

Response read_failure(const beast::error_code& ec) {
  if (ec == http::error::body_limit) return Response::text(413, "the request body is over 1 MiB\n");
  if (ec == http::error::header_limit)
    return Response::text(431, "the request's header is over 16 KiB\n");
  return Response::text(400, "bad request: " + ec.message() + "\n");
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, std::unique_ptr<asio::ssl::context> ctx,
                       Handler handler, HttpLimits limits)
    : io_(io), ctx_(std::move(ctx)), handler_(std::move(handler)), limits_(limits), acceptor_(io) {}

HttpServer::~HttpServer() = default;

Status HttpServer::listen(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return Status::invalid_input("'" + host + "' is not an IP address to listen on");
  const tcp::endpoint endpoint(address, port);
  if (acceptor_.open(endpoint.protocol(), ec); !ec) {
    acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (acceptor_.bind(endpoint, ec); !ec)
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec)
    return Status::unavailable("console: listening on " + host + ":" + std::to_string(port) + ": " +
                               ec.message());
  return Status();
}

std::uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void HttpServer::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void HttpServer::shutdown() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto& [serial, socket] : conns_) socket->close(ignored);
}

asio::awaitable<void> HttpServer::accept_loop() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) co_return;
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    if (conns_.size() >= limits_.max_connections) continue;  // the socket closes here
    const std::uint64_t serial = next_++;
    asio::co_spawn(io_, serve(serial, std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::serve(std::uint64_t serial, tcp::socket socket) {
  boost::system::error_code ignored;
  const std::string peer = socket.remote_endpoint(ignored).address().to_string();
  Stream stream(std::move(socket), *ctx_);
  conns_[serial] = &beast::get_lowest_layer(stream).socket();
  try {
    beast::get_lowest_layer(stream).expires_after(limits_.handshake);
    auto [hs] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    beast::flat_buffer buffer;
    for (std::size_t n = 0; !hs && !stopping_ && n < limits_.max_requests; ++n) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(16 << 10);
      parser.body_limit(kMaxBodyBytes);
      beast::get_lowest_layer(stream).expires_after(limits_.read);
      auto [ec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::operation_aborted || ec == asio::ssl::error::stream_truncated) {
        break;
      }
      Request req;
      Response res;
      bool keep = false;
      if (ec) {
        res = read_failure(ec);
      } else {
        res = to_request(parser.get(), peer, req);
        if (res.status == 0) res = co_await handler_(req);
        keep = parser.get().keep_alive();
      }
      const unsigned version = ec ? 11 : parser.get().version();
      auto out = to_beast(std::move(res), version, keep);
      beast::get_lowest_layer(stream).expires_after(limits_.write);
      auto [wec, wrote] = co_await http::async_write(stream, out, use_tuple);
      if (wec || !keep) break;
    }
    if (!hs && !stopping_) {
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
      co_await stream.async_shutdown(use_tuple);
    }
  } catch (const std::exception&) {
    // A broken connection ends; the server goes on.
  }
  conns_.erase(serial);
}

}  // namespace vs::console
