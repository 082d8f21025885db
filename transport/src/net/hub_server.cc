// The hub's server: accept, TLS handshake, one session coroutine per device (hub.h). Which
// connections it holds is net/admission.h's rule; the store thread and its bound are
// net/store_queue.h's.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>

#include <visitsync/transport/hub.h>

#include "net/admission.h"
#include "net/framed.h"
#include "net/store_queue.h"
#include "session/hub_session.h"
#include "tls/certs.h"
#include "tls/context.h"
#include "wire/messages.h"

namespace vs {

using net::asio::ip::tcp;
namespace asio = boost::asio;

namespace {

// The retry hint given to a device that completes its handshake while every session slot is
// taken: sessions last seconds, so a slot is likely free by then.
constexpr std::uint32_t kSessionsFullRetryS = 10;

// One open connection, from its accept to its close.
struct Conn {
  std::shared_ptr<net::TlsStream> stream;
  std::shared_ptr<net::StepOwner> owner;  // tells queued store steps the session has closed
  bool evicted = false;                   // closed in its handshake to make room for another
};

}  // namespace

struct HubServer::Impl {
  Impl(asio::io_context& io_in, HubStore& store_in, HubOptions options_in)
      : io(io_in),
        store(store_in),
        options(std::move(options_in)),
        acceptor(io_in),
        admission(
            {options.max_handshakes, options.max_handshakes_per_address, options.max_sessions}),
        queue({options.max_store_queue, options.store_wait_limit}),
        chores(io_in) {}
  ~Impl() { queue.join(); }
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
  net::Admission admission;
  net::StoreQueue queue;                           // the store thread; steps use the sessions
  asio::steady_timer chores;                       // the next run of chores_loop
  std::map<std::uint64_t, Conn> conns;             // open connections by serial
  std::map<std::string, std::uint64_t> by_device;  // the live session of each device
  std::uint64_t next_serial = 1;
  std::uint64_t accepted = 0;
  HubCounters counters;
  bool stopping = false;
};

namespace {

// What one session did, for its log line.
struct Tally {
  std::string device = "-";
  session::HubSessionStats stats;
  std::chrono::steady_clock::duration in_store{};
};

// Tells the device why its session ends (a protocol error, a store failure, busy) before
// closing.
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

// The address a connection counts against: an IPv4 address, or an IPv6 address's /64 (one
// host commonly holds a whole /64, so counting single IPv6 addresses would count nothing).
std::string admission_key(const asio::ip::address& a) {
  if (a.is_v4()) return a.to_string();
  asio::ip::address_v6 v6 = a.to_v6();
  if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
  asio::ip::address_v6::bytes_type b = v6.to_bytes();
  std::fill(b.begin() + 8, b.end(), 0);
  return asio::ip::address_v6(b).to_string() + "/64";
}

// Ends the live session of `device`, if any: its link is most likely dead, and the device
// should not wait for a timeout. A step it has queued on the store is dropped.
void replace_session(HubServer::Impl* im, const std::string& device, std::uint64_t serial) {
  if (auto it = im->by_device.find(device); it != im->by_device.end()) {
    if (auto old = im->conns.find(it->second); old != im->conns.end()) {
      im->log("session device=" + device + " replaces its previous session");
      old->second.owner->closed = true;
      close_quietly(*old->second.stream);
    }
  }
  im->by_device[device] = serial;
}

// The session after its handshake: frames in, protocol steps on the store thread, frames out.
// `seated`: the session holds a session slot; without one, its hello is answered "busy".
asio::awaitable<Status> converse(HubServer::Impl* im, std::shared_ptr<net::TlsStream> stream,
                                 std::shared_ptr<net::StepOwner> owner, bool seated, Tally* tally) {
  const HubOptions& o = im->options;
  session::HubSession session(im->store, tally->device, o.hub_id);
  Status s;
  while (s.ok() && !session.finished() && !im->stopping) {
    Result<wire::Frame> in = co_await net::read_frame(*stream, o.idle_timeout, o.write_timeout);
    if (!in.ok()) {
      s = in.status();
      if (s.code() == Code::kCorrupt) co_await tell(stream, s, o.write_timeout);
      break;
    }
    Result<std::vector<wire::Frame>> out =
        Status::unavailable(wire::busy_reason(kSessionsFullRetryS));
    if (seated) {
      const auto store_start = std::chrono::steady_clock::now();
      // A named step: a lambda made in the co_await's own statement is a temporary that lives
      // across the suspension, and GCC 12 frees it twice ("free(): invalid size").
      net::StoreQueue::Step step = [&session, frame = std::move(in.value())] {
        return session.on_frame(frame);
      };
      out = co_await im->queue.run(owner, std::move(step));
      tally->in_store += std::chrono::steady_clock::now() - store_start;
    }
    if (!out.ok()) {
      s = out.status();
      if (!owner->closed) co_await tell(stream, s, o.write_timeout);
      break;
    }
    s = co_await net::write_frames(*stream, std::move(out.value()), o.write_timeout);
    if (s.ok() && !session.refusal().ok()) s = session.refusal();
  }
  tally->stats = session.stats();
  if (s.ok() && im->stopping && !session.finished())
    s = Status::unavailable("the hub is shutting down");
  co_return s;
}

void log_session(HubServer::Impl* im, const Tally& t, const std::string& peer,
                 const net::TcpBytes& bytes, std::chrono::steady_clock::time_point started,
                 const std::string& outcome) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  const auto store_ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.in_store).count();
  HubCounters& c = im->counters;
  c.ops_in += t.stats.ops_in;
  c.ops_out += t.stats.ops_out;
  for (const auto& [kind, n] : t.stats.rejections) c.rejections[kind] += n;
  c.bytes_in += bytes.received;
  c.bytes_out += bytes.sent;
  if (t.device != "-") {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    c.last_session[t.device] = {std::chrono::duration_cast<std::chrono::milliseconds>(now).count(),
                                t.stats.skew_ms, outcome};
  }
  im->log("session device=" + t.device + " peer=" + peer + " ops_in=" +
          std::to_string(t.stats.ops_in) + " ops_out=" + std::to_string(t.stats.ops_out) +
          " rejected=" + std::to_string(t.stats.rejected) +
          " bytes_in=" + std::to_string(bytes.received) +
          " bytes_out=" + std::to_string(bytes.sent) + " ms=" + std::to_string(ms) +
          " store_ms=" + std::to_string(store_ms) + " outcome=" + outcome);
}

// One connection, from the TLS handshake to the close: a named coroutine with by-value
// parameters, every step under a deadline.
asio::awaitable<void> serve(HubServer::Impl* im, std::uint64_t serial, std::string peer,
                            std::chrono::milliseconds handshake_limit) {
  const auto started = std::chrono::steady_clock::now();
  const HubOptions& o = im->options;
  const std::shared_ptr<net::TlsStream> stream = im->conns.at(serial).stream;
  const std::shared_ptr<net::StepOwner> owner = im->conns.at(serial).owner;
  Tally tally;
  std::string outcome = "ok";
  try {
    Status s = co_await net::within(handshake_limit,
                                    net::tls_handshake(*stream, asio::ssl::stream_base::server),
                                    "TLS handshake");
    im->admission.handshake_ended(serial);
    // Even a handshake that had just succeeded, its completion not yet run, is over: its
    // socket was closed to make room.
    if (im->conns.at(serial).evicted)
      s = Status::unavailable("closed in its handshake to make room for a newer connection");
    if (s.ok()) {
      Result<std::string> cn = tls::peer_common_name(stream->native_handle());
      if (!cn.ok())
        s = cn.status();
      else
        tally.device = cn.value();
    }
    if (s.ok()) {
      replace_session(im, tally.device, serial);
      const bool seated = im->admission.open_session();
      s = co_await converse(im, stream, owner, seated, &tally);
      if (seated) im->admission.close_session();
    }
    if (!s.ok()) {
      outcome = std::string(code_name(s.code())) + ": " + s.message();
      ++im->counters.sessions[tally.device == "-" ? "handshake" : std::string(code_name(s.code()))];
      if (tally.device == "-") ++im->counters.handshake_failures;
    } else {
      ++im->counters.sessions["ok"];
    }
    if (stream->lowest_layer().is_open()) {
      Status closed = co_await net::within(o.close_timeout, net::tls_close(*stream), "TLS close");
      (void)closed;  // how the close went changes nothing: the session's outcome is decided
    }
  } catch (const std::exception& e) {
    outcome = std::string("internal error: ") + e.what();
  }
  owner->closed = true;
  const net::TcpBytes bytes = net::tcp_bytes(stream->next_layer());
  close_quietly(*stream);
  im->admission.handshake_ended(serial);  // a no-op unless an exception skipped the first
  im->conns.erase(serial);
  if (auto it = im->by_device.find(tally.device); it != im->by_device.end() && it->second == serial)
    im->by_device.erase(it);
  log_session(im, tally, peer, bytes, started, outcome);
}

// Takes a new connection into a handshake slot, closing the one it displaces.
void admit(HubServer::Impl* im, tcp::socket socket) {
  ++im->accepted;
  boost::system::error_code ignored;
  const tcp::endpoint remote = socket.remote_endpoint(ignored);
  const std::string peer = remote.address().to_string() + ":" + std::to_string(remote.port());
  socket.set_option(tcp::no_delay(true), ignored);
  const std::uint64_t serial = im->next_serial++;
  const net::Admission::Arrival a = im->admission.arrive(serial, admission_key(remote.address()));
  if (a.evict) {
    if (auto it = im->conns.find(*a.evict); it != im->conns.end()) {
      it->second.evicted = true;
      close_quietly(*it->second.stream);
    }
  }
  Conn& c = im->conns[serial];
  c.stream = std::make_shared<net::TlsStream>(std::move(socket), *im->ctx);
  c.owner = std::make_shared<net::StepOwner>();
  const std::chrono::milliseconds limit =
      a.crowded ? std::min(im->options.handshake_timeout, im->options.crowded_handshake_timeout)
                : im->options.handshake_timeout;
  asio::co_spawn(im->io, serve(im, serial, peer, limit), [im](const std::exception_ptr& e) {
    if (e) im->log("a session ended by an exception");
  });
}

// The store's chores that are due (the photo garbage collection, once a day:
// HubStore::collect_photo_garbage_daily); what to log of them ("" for nothing).
std::string run_chores(HubStore& store) {
  Result<std::optional<PhotoGarbage>> g = store.collect_photo_garbage_daily();
  if (!g.ok()) return "photo garbage collection failed: " + g.status().to_string();
  if (!g.value()) return "";
  return "photo garbage collection: removed " + std::to_string(g.value()->removed.size()) +
         " photos and " + std::to_string(g.value()->partials) + " partial transfers";
}

// Every hour after the start, the chores, on the store thread like any step.
asio::awaitable<void> chores_loop(HubServer::Impl* im) {
  const auto owner = std::make_shared<net::StepOwner>();
  while (!im->stopping) {
    im->chores.expires_after(std::chrono::hours(1));
    auto [ec] = co_await im->chores.async_wait(net::use_tuple);
    if (ec || im->stopping) co_return;
    auto said = std::make_shared<std::string>();
    Result<net::StoreQueue::Frames> ran =
        co_await im->queue.run(owner, [im, said]() -> Result<net::StoreQueue::Frames> {
          *said = run_chores(im->store);
          return net::StoreQueue::Frames{};
        });
    (void)ran;  // a busy store: the next hour
    if (!said->empty()) im->log(*said);
  }
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
    admit(im, std::move(socket));
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
  // Before any session: the caller's thread has the store to itself.
  if (const std::string said = run_chores(im->store); !said.empty()) im->log(said);
  asio::co_spawn(im->io, accept_loop(im), [im](const std::exception_ptr& e) {
    if (e) im->log("the accept loop ended by an exception");
  });
  asio::co_spawn(im->io, chores_loop(im), [im](const std::exception_ptr& e) {
    if (e) im->log("the chores loop ended by an exception");
  });
}

void HubServer::shutdown() {
  impl_->stopping = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->chores.cancel();
  // Pending reads end at once; a session busy on the store finishes that step, then stops.
  for (auto& [serial, c] : impl_->conns) c.stream->lowest_layer().cancel(ignored);
}

std::size_t HubServer::live_sessions() const { return impl_->conns.size(); }

HubCounters HubServer::counters() const { return impl_->counters; }

namespace {

asio::awaitable<void> store_work(HubServer::Impl* im, std::function<Status(HubStore&)> work,
                                 std::function<void(Status)> done) {
  const auto owner = std::make_shared<net::StepOwner>();
  auto said = std::make_shared<Status>();
  net::StoreQueue::Step step = [im, said,
                                work = std::move(work)]() -> Result<net::StoreQueue::Frames> {
    *said = work(im->store);
    return net::StoreQueue::Frames{};
  };
  Result<net::StoreQueue::Frames> ran = co_await im->queue.run(owner, std::move(step));
  done(ran.ok() ? *said : ran.status());
}

}  // namespace

void HubServer::on_store(std::function<Status(HubStore&)> work, std::function<void(Status)> done) {
  Impl* im = impl_.get();
  asio::co_spawn(im->io, store_work(im, std::move(work), std::move(done)),
                 [im](const std::exception_ptr& e) {
                   if (e) im->log("a store step of the console ended by an exception");
                 });
}

HubLoad HubServer::load() const {
  const Impl& im = *impl_;
  HubLoad l;
  l.handshakes = im.admission.handshakes();
  l.sessions = im.admission.sessions();
  l.store_queue = im.queue.queued();
  l.store_queue_peak = im.queue.peak();
  l.accepted = im.accepted;
  l.evicted = im.admission.evicted();
  l.busy = im.queue.busy();
  l.abandoned = im.queue.abandoned();
  l.store_steps = im.queue.steps_run();
  l.store_busy = im.queue.busy_time();
  return l;
}

}  // namespace vs
