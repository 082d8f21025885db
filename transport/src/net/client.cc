// The device's side of sync over the network (client.h): connect, TLS, a DeviceSession, close.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <visitsync/transport/client.h>

#include "net/framed.h"
#include "session/device_session.h"
#include "tls/context.h"
#include "wire/messages.h"

namespace vs {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

struct ClientRun {
  Engine* engine;
  const Enrollment* enrollment;
  SyncOptions options;
  asio::ssl::context* ctx;
  Result<SyncReport> result = Status::internal("sync did not run");
  asio::steady_timer* watch = nullptr;  // the cancel watch, woken when the session ends
  bool done = false;
};

// Looks at SyncOptions::cancel every 50 ms while the session runs; once it is set, stops the
// session's io_context. The session's coroutine is then destroyed where it waits: every engine
// call it makes is a whole transaction, so the store is left as after the last one.
asio::awaitable<void> watch_cancel(ClientRun* run, asio::io_context* io) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  run->watch = &timer;
  while (!run->done) {
    if (run->options.cancel->load()) {
      run->result = Status::cancelled(
          "sync cancelled: what the hub acknowledged stays acknowledged, and the next sync "
          "resumes");
      io->stop();
      break;
    }
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(net::use_tuple);
  }
  run->watch = nullptr;
}

// Connects to the hub at an IP address, or at each address its host name resolves to in turn.
// A lookup cannot be cancelled (Asio runs getaddrinfo on a thread of its own): the connect
// timeout around this waits for it, and the system resolver's timeouts bound it.
asio::awaitable<Status> connect(tcp::socket& socket, std::string host, std::uint16_t port) {
  const std::string where = host + ":" + std::to_string(port);
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoints.emplace_back(address, port);
  } else {
    tcp::resolver resolver(co_await asio::this_coro::executor);
    auto [rec, found] = co_await resolver.async_resolve(host, std::to_string(port), net::use_tuple);
    if (rec)
      co_return Status::unavailable("looking up the hub's name " + where + ": " + rec.message());
    for (const auto& entry : found) endpoints.push_back(entry.endpoint());
  }
  auto [cec, used] = co_await asio::async_connect(socket, endpoints, net::use_tuple);
  if (cec)
    co_return Status::unavailable("connecting to the hub at " + where + ": " + cec.message());
  co_return Status();
}

// The whole session.
asio::awaitable<Result<SyncReport>> session_of(ClientRun* run) {
  const SyncOptions& o = run->options;
  const Enrollment& e = *run->enrollment;
  net::TlsStream stream(co_await asio::this_coro::executor, *run->ctx);
  // First, so that a malformed host name is refused before it reaches a name lookup.
  if (Status s = tls::prepare_client_stream(stream, e.hub_host); !s.ok()) {
    co_return s;
  }
  if (Status s = co_await net::within(o.connect_timeout,
                                      connect(stream.next_layer(), e.hub_host, e.hub_port),
                                      "connecting to the hub");
      !s.ok()) {
    co_return s;
  }
  boost::system::error_code ec;
  stream.next_layer().set_option(tcp::no_delay(true), ec);
  if (Status s = co_await net::within(o.handshake_timeout,
                                      net::tls_handshake(stream, asio::ssl::stream_base::client),
                                      "TLS handshake with the hub");
      !s.ok()) {
    co_return s;
  }
  SyncOptions with_bytes = o;
  if (o.progress) {
    with_bytes.progress = [&o, &stream](const SyncProgress& p) {
      SyncProgress q = p;
      const net::TcpBytes bytes = net::tcp_bytes(stream.next_layer());
      q.bytes_sent = bytes.sent;
      q.bytes_received = bytes.received;
      o.progress(q);
    };
  }
  session::DeviceSession session(*run->engine, with_bytes);
  Result<std::vector<wire::Frame>> out = session.start();
  Status s = out.status();
  while (s.ok()) {
    s = co_await net::write_frames(stream, std::move(out.value()), o.io_timeout);
    if (!s.ok() || session.done()) break;
    Result<wire::Frame> in = co_await net::read_frame(stream, o.io_timeout, o.io_timeout);
    if (!in.ok()) {
      s = in.status();
      break;
    }
    out = session.on_frame(in.value());
    s = out.status();
  }
  if (s.ok()) {
    Status closed =
        co_await net::within(std::chrono::milliseconds(2000), net::tls_close(stream), "TLS close");
    (void)closed;  // every message was framed and acknowledged already
  }
  // A session that failed is not closed politely: its link is likely gone (a reset, a cut), and
  // waiting for the hub's close would only hold a device on a bad link for two more seconds.
  SyncReport report = session.report();
  const net::TcpBytes bytes = net::tcp_bytes(stream.next_layer());
  report.bytes_sent = bytes.sent;
  report.bytes_received = bytes.received;
  if (s.ok() && !session.done()) s = Status::unavailable("the session ended early");
  if (!s.ok()) co_return s;
  co_return report;
}

// The session; its result goes into run->result, and the cancel watch ends with it, however
// it ended.
asio::awaitable<void> run_session(ClientRun* run) {
  run->result = co_await session_of(run);
  run->done = true;
  if (run->watch != nullptr) run->watch->cancel();
}

}  // namespace

namespace {

// "'TEXT'" and why it is not an address. (Appended piece by piece: GCC 12 warns, wrongly, of
// overlapping copies in `"'" + std::string(text) + ...` when optimizing.)
Status bad_address(std::string_view text, std::string_view why) {
  std::string message = "'";
  message.append(text).append("'").append(why);
  return Status::invalid_input(message);
}

}  // namespace

Result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text) {
  std::string host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad_address(text, " is not HOST:PORT");
    }
    host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
      return bad_address(text, " is not HOST:PORT");
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned long p = 0;
  const std::string port_s(port);
  char* end = nullptr;
  p = std::strtoul(port_s.c_str(), &end, 10);
  if (port_s.empty() || end == nullptr || *end != '\0' || p > 65535) {
    return bad_address(text, ": bad port");
  }
  return std::make_pair(host, static_cast<std::uint16_t>(p));
}

std::optional<std::chrono::seconds> hub_busy_retry(const Status& s) {
  if (s.code() != Code::kUnavailable) return std::nullopt;
  const std::optional<std::uint32_t> n = wire::busy_retry_s(s.message());
  if (!n) return std::nullopt;
  return std::chrono::seconds(*n);
}

Result<SyncReport> sync_with_hub(Engine& engine, const Enrollment& enrollment,
                                 const SyncOptions& options) {
  if (engine.device_id() != enrollment.device_id) {
    return Status::invalid_input("this store belongs to " + engine.device_id() +
                                 ", the enrollment to " + enrollment.device_id);
  }
  Result<std::unique_ptr<asio::ssl::context>> ctx = tls::client_context(
      enrollment.ca_pem, tls::Credentials{enrollment.cert_pem, enrollment.key_pem});
  if (!ctx.ok()) return ctx.status().annotate("enrollment");
  ClientRun run{&engine, &enrollment, options, ctx.value().get()};
  if (options.cancel != nullptr && options.cancel->load()) {
    return Status::cancelled("sync cancelled before it started");
  }
  // After `run`, so that destroying a cancelled session's coroutine never outlives it.
  asio::io_context io;
  auto on_exception = [&run](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      run.result = Status::internal(std::string("sync: ") + ex.what());
    }
  };
  asio::co_spawn(io, run_session(&run), on_exception);
  if (options.cancel != nullptr) asio::co_spawn(io, watch_cancel(&run, &io), on_exception);
  io.run();
  return run.result;
}

}  // namespace vs
