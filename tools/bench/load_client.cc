#include "load_client.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include "net/framed.h"
#include "session/device_session.h"
#include "tls/context.h"
#include "wire/batch.h"

namespace vs::bench {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Pull requests one session makes at most: a scope far larger than the bench's would need more.
constexpr int kMaxPulls = 10'000;

asio::awaitable<Status> connect(tcp::socket& socket, const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) co_return Status::invalid_input("the hub's address '" + host + "' is not an IP address");
  auto [cec] = co_await socket.async_connect(tcp::endpoint(address, port), net::use_tuple);
  if (cec) co_return net::net_error(cec, "connecting to the hub");
  co_return Status();
}

// The hub's next frame, which must be of type `want`; a refusal becomes its reason.
asio::awaitable<Result<wire::Frame>> answer(net::TlsStream& stream, const LoadOptions& o,
                                            wire::MsgType want) {
  Result<wire::Frame> f = co_await net::read_frame(stream, o.timeout, o.timeout);
  if (!f.ok()) co_return f.status();
  if (f->type == wire::MsgType::kRefused) {
    Result<wire::Refused> r = wire::decode<wire::Refused>(f.value());
    co_return Status::unavailable("refused: " + (r.ok() ? r->reason : r.status().message()));
  }
  if (f->type != want) {
    co_return Status::corrupt("expected " + std::string(wire::msg_type_name(want)) + ", got " +
                              std::string(wire::msg_type_name(f->type)));
  }
  co_return f;
}

std::vector<wire::Frame> one(wire::Frame f) {
  std::vector<wire::Frame> v;
  v.push_back(std::move(f));
  return v;
}

asio::awaitable<Status> send(net::TlsStream& stream, const LoadOptions& o,
                             std::vector<wire::Frame> frames) {
  co_return co_await net::write_frames(stream, std::move(frames), o.timeout);
}

// Hello, then the pushes with kPushWindow in flight, each ack checked against its push.
asio::awaitable<Status> hello_and_push(net::TlsStream& stream, const LoadOptions& o,
                                       const PreparedDevice& d, SessionOutcome& out) {
  wire::Hello h = d.hello;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  h.device_clock = make_hlc(static_cast<std::uint64_t>(
                                std::chrono::duration_cast<std::chrono::milliseconds>(now).count()),
                            0);
  // Named, not made in the co_await's statement: GCC 12 mishandles such temporaries.
  std::vector<wire::Frame> hello = one(wire::encode(h));
  if (Status s = co_await send(stream, o, std::move(hello)); !s.ok()) co_return s;
  Result<wire::Frame> f = co_await answer(stream, o, wire::MsgType::kWelcome);
  if (!f.ok()) co_return f.status();
  Result<wire::Welcome> w = wire::decode<wire::Welcome>(f.value());
  if (!w.ok()) co_return w.status();
  if (w->acked_seq != h.acked_seq)
    co_return Status::corrupt("the hub holds ops of this device already");
  std::size_t sent = 0;
  for (std::size_t acked = 0; acked < d.pushes.size(); ++acked) {
    std::vector<wire::Frame> frames;
    for (; sent < d.pushes.size() && sent - acked < session::kPushWindow; ++sent)
      frames.push_back(d.pushes[sent]);
    if (!frames.empty()) {
      if (Status s = co_await send(stream, o, std::move(frames)); !s.ok()) co_return s;
    }
    f = co_await answer(stream, o, wire::MsgType::kPushAck);
    if (!f.ok()) co_return f.status();
    Result<wire::PushAck> ack = wire::decode<wire::PushAck>(f.value());
    if (!ack.ok()) co_return ack.status();
    if (ack->acked_seq != d.ends[acked])
      co_return Status::corrupt("ack of seq " + std::to_string(ack->acked_seq) + ", expected " +
                                std::to_string(d.ends[acked]));
    if (!ack->rejected.empty())
      co_return Status::rejected("the hub refused op " + std::to_string(ack->rejected[0].first) +
                                 ": " + ack->rejected[0].second);
    out.pushed = ack->acked_seq;
  }
  co_return Status();
}

// Pull requests until the hub has nothing more, counting the ops; then bye.
asio::awaitable<Status> pull_and_bye(net::TlsStream& stream, const LoadOptions& o,
                                     SessionOutcome& out) {
  wire::PullRequest req;
  req.max_ops = SyncOptions{}.pull_batch_ops;
  bool more = true;
  for (int i = 0; i < kMaxPulls && more; ++i) {
    std::vector<wire::Frame> ask = one(wire::encode(req));
    if (Status s = co_await send(stream, o, std::move(ask)); !s.ok()) co_return s;
    Result<wire::Frame> f = co_await answer(stream, o, wire::MsgType::kPullBatch);
    if (!f.ok()) co_return f.status();
    Result<wire::PullBatch> b = wire::decode<wire::PullBatch>(f.value());
    if (!b.ok()) co_return b.status();
    Result<std::vector<Op>> ops = wire::decode_batch(b->batch);
    if (!ops.ok()) co_return ops.status();
    out.pulled += ops->size();
    req.cursor = std::move(b->next_cursor);
    more = b->more;
  }
  if (more) co_return Status::internal("the hub still had more after the last pull");
  std::vector<wire::Frame> bye = one(wire::encode(wire::Bye{}));
  co_return co_await send(stream, o, std::move(bye));
}

asio::awaitable<SessionOutcome> one_session(const PreparedDevice& d, const LoadOptions& o) {
  SessionOutcome out;
  const Clock::time_point t0 = Clock::now();
  net::TlsStream stream(co_await asio::this_coro::executor, *d.tls);
  Status s = tls::prepare_client_stream(stream, d.host);
  if (s.ok())
    s = co_await net::within(o.timeout, connect(stream.next_layer(), d.host, d.port),
                             "connecting to the hub");
  if (s.ok()) {
    boost::system::error_code ignored;
    stream.next_layer().set_option(tcp::no_delay(true), ignored);
    s = co_await net::within(o.timeout, net::tls_handshake(stream, asio::ssl::stream_base::client),
                             "TLS handshake");
  }
  if (s.ok() && !o.handshake_only) s = co_await hello_and_push(stream, o, d, out);
  if (s.ok() && !o.handshake_only) s = co_await pull_and_bye(stream, o, out);
  out.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (s.ok()) {
    Status closed =
        co_await net::within(std::chrono::milliseconds(2000), net::tls_close(stream), "TLS close");
    (void)closed;  // the bye was sent: the session's work is done
  }
  out.ok = s.ok();
  if (!s.ok()) out.error = s.message();
  co_return out;
}

struct Run {
  std::span<const PreparedDevice> devices;
  const LoadOptions& options;
  std::vector<SessionOutcome>& outcomes;
  std::atomic<std::size_t> next{0};
};

// One slot of the concurrency: sessions one after another until every device has had its turn.
asio::awaitable<void> slot(Run* run) {
  for (;;) {
    const std::size_t i = run->next.fetch_add(1);
    if (i >= run->devices.size()) co_return;
    try {
      run->outcomes[i] = co_await one_session(run->devices[i], run->options);
    } catch (const std::exception& e) {
      run->outcomes[i].error = std::string("exception: ") + e.what();
    }
  }
}

}  // namespace

Result<PreparedDevice> prepare_device(Engine& engine, const Enrollment& e) {
  Result<EngineStats> st = engine.stats();
  if (!st.ok()) return st.status();
  PreparedDevice d;
  d.hello.device_id = engine.device_id();
  d.hello.schema_version = st->schema_version;
  d.hello.last_seq = st->last_own_seq;
  d.hello.acked_seq = 0;  // a new device: nothing acknowledged yet
  const std::size_t batch_ops = std::min(SyncOptions{}.push_batch_ops, wire::kMaxPushOps);
  for (std::uint64_t from = 0; from < st->last_own_seq;) {
    Result<std::vector<Op>> ops = engine.ops_after(from, batch_ops);
    if (!ops.ok()) return ops.status();
    if (ops->empty()) break;
    ops->resize(session::ops_in_push(ops.value()));
    from = ops->back().id.seq;
    d.ends.push_back(from);
    wire::Push p;
    p.batch = wire::encode_batch(ops.value());
    d.pushes.push_back(wire::encode(p));
  }
  Result<std::unique_ptr<asio::ssl::context>> ctx =
      tls::client_context(e.ca_pem, tls::Credentials{e.cert_pem, e.key_pem});
  if (!ctx.ok()) return ctx.status().annotate("enrollment");
  d.tls = std::move(ctx.value());
  d.host = e.hub_host;
  d.port = e.hub_port;
  return d;
}

std::vector<SessionOutcome> run_load(std::span<const PreparedDevice> devices,
                                     const LoadOptions& o) {
  std::vector<SessionOutcome> outcomes(devices.size());
  Run run{devices, o, outcomes};
  const int threads = std::max(o.threads, 1);
  std::vector<std::unique_ptr<asio::io_context>> ios;
  for (int t = 0; t < threads; ++t) ios.push_back(std::make_unique<asio::io_context>(1));
  const std::size_t slots = std::min(std::max<std::size_t>(o.concurrency, 1), devices.size());
  for (std::size_t k = 0; k < slots; ++k) {
    asio::io_context& io = *ios[k % ios.size()];
    asio::co_spawn(io, slot(&run), [](const std::exception_ptr&) {});
  }
  std::vector<std::thread> pool;
  for (auto& io : ios) pool.emplace_back([&io] { io->run(); });
  for (std::thread& t : pool) t.join();
  return outcomes;
}

}  // namespace vs::bench
