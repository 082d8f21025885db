// The hub's server: accept, TLS handshake, one session coroutine per device (hub.h).
#include <map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/thread_pool.hpp>

#include <visitsync/transport/hub.h>

#include "net/framed.h"
#include "session/hub_session.h"
#include "tls/certs.h"
#include "tls/context.h"
#include "wire/messages.h"

namespace vs {

using net::asio::ip::tcp;
namespace asio = boost::asio;

struct HubServer::Impl {
  Impl(asio::io_context& io_in, HubStore& store_in, HubOptions options_in)
      : io(io_in), store(store_in), options(std::move(options_in)), acceptor(io_in) {}
  ~Impl() { store_pool.join(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  asio::io_context& io;
  HubStore& store;
  HubOptions options;
  std::unique_ptr<asio::ssl::context> ctx;
  tcp::acceptor acceptor;
  asio::thread_pool store_pool{1};  // SQLite work: one thread, off the sockets' thread
  std::map<std::uint64_t, std::shared_ptr<net::TlsStream>> sessions;  // open sessions by serial
  std::map<std::string, std::uint64_t> by_device;                     // the live one of each device
  std::uint64_t next_serial = 1;
  bool stopping = false;
};

namespace {

// Connections served at once; more are closed at once (their devices retry), so that
// unauthenticated connections cannot exhaust the hub's file descriptors.
constexpr std::size_t kMaxSessions = 2000;

// Runs one step of the protocol on the store thread.
asio::awaitable<Result<std::vector<wire::Frame>>> on_store(session::HubSession* session,
                                                           wire::Frame frame) {
  co_return session->on_frame(frame);
}

// Tells the device why its session ends (a protocol error, a store failure) before closing.
asio::awaitable<void> tell(std::shared_ptr<net::TlsStream> stream, Status why,
                           std::chrono::milliseconds limit) {
  wire::Refused r;
  r.code = static_cast<std::int32_t>(why.code());
  r.reason = why.message().substr(0, wire::kMaxReasonBytes);
  std::vector<wire::Frame> frames;
  frames.push_back(wire::encode(r));
  Status sent = co_await net::write_frames(*stream, std::move(frames), limit);
  (void)sent;  // the session ends either way
}

void close_quietly(net::TlsStream& stream) {
  boost::system::error_code ignored;
  stream.lowest_layer().cancel(ignored);
  stream.lowest_layer().close(ignored);
}

// One session, from the TLS handshake to the close: a named coroutine with by-value
// parameters, every step under a deadline.
asio::awaitable<void> serve(HubServer::Impl* im, std::shared_ptr<net::TlsStream> stream,
                            std::uint64_t serial, std::string peer) {
  const auto started = std::chrono::steady_clock::now();
  const HubOptions& o = im->options;
  std::string device = "-";
  std::string outcome = "ok";
  session::HubSessionStats stats;
  std::chrono::steady_clock::duration in_store{};
  try {
    Status s = co_await net::within(o.handshake_timeout,
                                    net::tls_handshake(*stream, asio::ssl::stream_base::server),
                                    "TLS handshake");
    if (s.ok()) {
      Result<std::string> cn = tls::peer_common_name(stream->native_handle());
      if (!cn.ok())
        s = cn.status();
      else
        device = cn.value();
    }
    if (s.ok()) {
      // One live session per device: a newer one replaces the older.
      if (auto it = im->by_device.find(device); it != im->by_device.end()) {
        if (auto old = im->sessions.find(it->second); old != im->sessions.end()) {
          im->log("session device=" + device + " replaces its previous session");
          close_quietly(*old->second);
        }
      }
      im->by_device[device] = serial;
      session::HubSession session(im->store, device, o.hub_id);
      while (s.ok() && !session.finished() && !im->stopping) {
        Result<wire::Frame> in = co_await net::read_frame(*stream, o.idle_timeout, o.write_timeout);
        if (!in.ok()) {
          s = in.status();
          if (s.code() == Code::kCorrupt) co_await tell(stream, s, o.write_timeout);
          break;
        }
        const auto store_start = std::chrono::steady_clock::now();
        Result<std::vector<wire::Frame>> out = co_await asio::co_spawn(
            im->store_pool, on_store(&session, std::move(in.value())), asio::use_awaitable);
        in_store += std::chrono::steady_clock::now() - store_start;
        if (!out.ok()) {
          s = out.status();
          co_await tell(stream, s, o.write_timeout);
          break;
        }
        s = co_await net::write_frames(*stream, std::move(out.value()), o.write_timeout);
        if (s.ok() && !session.refusal().ok()) s = session.refusal();
      }
      stats = session.stats();
      if (s.ok() && im->stopping && !session.finished())
        s = Status::unavailable("the hub is shutting down");
    }
    if (!s.ok()) outcome = std::string(code_name(s.code())) + ": " + s.message();
    if (stream->lowest_layer().is_open()) {
      Status closed = co_await net::within(o.close_timeout, net::tls_close(*stream), "TLS close");
      (void)closed;  // how the close went changes nothing: the session's outcome is decided
    }
  } catch (const std::exception& e) {
    outcome = std::string("internal error: ") + e.what();
  }
  const net::TcpBytes bytes = net::tcp_bytes(stream->next_layer());
  close_quietly(*stream);
  im->sessions.erase(serial);
  if (auto it = im->by_device.find(device); it != im->by_device.end() && it->second == serial)
    im->by_device.erase(it);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  im->log("session device=" + device + " peer=" + peer + " ops_in=" + std::to_string(stats.ops_in) +
          " ops_out=" + std::to_string(stats.ops_out) + " rejected=" +
          std::to_string(stats.rejected) + " bytes_in=" + std::to_string(bytes.received) +
          " bytes_out=" + std::to_string(bytes.sent) + " ms=" + std::to_string(ms) + " store_ms=" +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(in_store).count()) +
          " outcome=" + outcome);
}

asio::awaitable<void> accept_loop(HubServer::Impl* im) {
  while (!im->stopping) {
    auto [ec, socket] = co_await im->acceptor.async_accept(net::use_tuple);
    if (ec) {
      if (im->stopping || ec == asio::error::operation_aborted) co_return;
      // Out of file descriptors, say: wait a little rather than spin on the error.
      im->log("accept failed: " + ec.message());
      asio::steady_timer pause(im->io, std::chrono::milliseconds(100));
      auto [waited] = co_await pause.async_wait(net::use_tuple);
      (void)waited;
      continue;
    }
    if (im->sessions.size() >= kMaxSessions) {
      boost::system::error_code ignored;
      socket.close(ignored);  // at capacity: the device retries later
      continue;
    }
    boost::system::error_code ignored;
    const tcp::endpoint remote = socket.remote_endpoint(ignored);
    const std::string peer = remote.address().to_string() + ":" + std::to_string(remote.port());
    socket.set_option(tcp::no_delay(true), ignored);
    auto stream = std::make_shared<net::TlsStream>(std::move(socket), *im->ctx);
    const std::uint64_t serial = im->next_serial++;
    im->sessions[serial] = stream;
    asio::co_spawn(im->io, serve(im, stream, serial, peer), [im](const std::exception_ptr& e) {
      if (e) im->log("a session ended by an exception");
    });
  }
}

}  // namespace

HubServer::HubServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HubServer::~HubServer() = default;

Result<std::unique_ptr<HubServer>> HubServer::create(asio::io_context& io, HubStore& store,
                                                     const std::string& ca_pem,
                                                     const std::string& cert_pem,
                                                     const std::string& key_pem,
                                                     HubOptions options) {
  auto impl = std::make_unique<Impl>(io, store, std::move(options));
  Result<std::unique_ptr<asio::ssl::context>> ctx =
      tls::server_context(ca_pem, tls::Credentials{cert_pem, key_pem});
  if (!ctx.ok()) return ctx.status();
  impl->ctx = std::move(ctx.value());
  return std::unique_ptr<HubServer>(new HubServer(std::move(impl)));
}

Status HubServer::listen(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return Status::invalid_input("'" + host + "' is not an IP address to listen on");
  const tcp::endpoint endpoint(address, port);
  tcp::acceptor& a = impl_->acceptor;
  if (a.open(endpoint.protocol(), ec); ec)
    return Status::unavailable("listening on " + host + ": " + ec.message());
  a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (a.bind(endpoint, ec); ec) {
    return Status::unavailable("listening on " + host + ":" + std::to_string(port) + ": " +
                               ec.message());
  }
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Status::unavailable("listening on " + host + ": " + ec.message());
  }
  return Status();
}

std::uint16_t HubServer::port() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HubServer::start() {
  Impl* im = impl_.get();
  asio::co_spawn(im->io, accept_loop(im), [im](const std::exception_ptr& e) {
    if (e) im->log("the accept loop ended by an exception");
  });
}

void HubServer::shutdown() {
  impl_->stopping = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  // Pending reads end at once; a session busy on the store finishes that step, then stops.
  for (auto& [serial, stream] : impl_->sessions) stream->lowest_layer().cancel(ignored);
}

std::size_t HubServer::live_sessions() const { return impl_->sessions.size(); }

}  // namespace vs
