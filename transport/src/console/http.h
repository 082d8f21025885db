// The console's HTTPS server: Beast over TLS 1.3, one coroutine per connection on the caller's
// io_context, every request read under limits and deadlines and handed to one handler as a
// Request (request.h). Every response carries the security headers (a strict CSP, no caching,
// no framing, no sniffing, HSTS).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <visitsync/status.h>

#include "console/request.h"

namespace vs::console {

struct HttpLimits {
  std::size_t max_connections = 256;  // more are closed at once
  std::size_t max_requests = 1000;    // on one connection
  std::chrono::seconds handshake{10};
  std::chrono::seconds read{30};  // a request's header and body, or the wait for the next
  std::chrono::seconds write{30};
};

class HttpServer {
 public:
  using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;
  HttpServer(boost::asio::io_context& io, std::unique_ptr<boost::asio::ssl::context> ctx,
             Handler handler, HttpLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  HttpServer(HttpServer&&) = delete;
  HttpServer& operator=(HttpServer&&) = delete;

  Status listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  void start();
  void shutdown();
  std::size_t open() const { return conns_.size(); }

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(std::uint64_t serial, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  std::unique_ptr<boost::asio::ssl::context> ctx_;
  Handler handler_;
  HttpLimits limits_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::map<std::uint64_t, boost::asio::ip::tcp::socket*> conns_;  // to close at shutdown
  std::uint64_t next_ = 1;
  bool stopping_ = false;
};

}  // namespace vs::console
