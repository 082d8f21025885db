// The replicator: its schedule (backoff with jitter, debounce, no polling, once, giving up) with
// a scripted sync, then against a real hub on 127.0.0.1 through a proxy that cuts the link,
// stalls it and takes it down; the sync state per visit and the changes a pull reports.
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <visitsync/transport/replicator.h>

#include "hub_fixture.h"
#include "live_hub.h"
#include "support/fault_proxy.h"

using namespace vs;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

namespace {

// Every status the replicator published, in order.
struct Recorder {
  std::mutex mu;
  std::vector<ReplicatorStatus> seen;
  void add(const ReplicatorStatus& s) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(s);
  }
  std::vector<ReplicatorStatus> all() {
    std::lock_guard<std::mutex> lock(mu);
    return seen;
  }
};

// A sync that answers from a script (the last answer repeats) and counts its calls.
struct ScriptedSync {
  std::mutex mu;
  std::vector<Result<SyncReport>> script;
  std::vector<Steady::time_point> calls;
  Result<SyncReport> operator()(const SyncOptions&) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(Steady::now());
    return script[std::min(calls.size(), script.size()) - 1];
  }
  std::size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return calls.size();
  }
};

bool eventually(const std::function<bool()>& done, milliseconds limit) {
  const Steady::time_point until = Steady::now() + limit;
  while (Steady::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return done();
}

// What a device's replicator syncs with: a second connection to the device's store, and its
// enrollment pointed at `port` (a proxy's; 0: the hub itself).
struct Syncing {
  std::unique_ptr<Inspection> in;
  Enrollment via;
  Replicator::SyncOnce sync_once() {
    return [this](const SyncOptions& so) { return sync_with_hub(in->engine(), via, so); };
  }
};

Syncing syncing(test::LiveHub& hub, const test::TestDevice& d, std::uint16_t port = 0) {
  Result<std::unique_ptr<Inspection>> own =
      Inspection::open(hub.dir().file(d.enrollment.device_id), &hub.clock);
  REQUIRE(own.ok());
  Syncing s{std::move(own.value()), d.enrollment};
  if (port != 0) s.via.hub_port = port;
  return s;
}

ReplicatorOptions quick(Recorder& rec) {
  ReplicatorOptions o;
  o.first_retry = milliseconds(40);
  o.max_retry = milliseconds(320);
  o.debounce = milliseconds(50);
  o.pull_every = milliseconds(0);
  o.seed = 7;
  o.on_status = [&rec](const ReplicatorStatus& s) { rec.add(s); };
  return o;
}

}  // namespace

TEST_CASE("the replicator backs off exponentially with jitter, bounded, and gives up on damage",
          "[transport][replicator]") {
  ScriptedSync sync;
  sync.script = {Status::unavailable("no route to the hub")};
  Recorder rec;
  Replicator r([&](const SyncOptions& o) { return sync(o); }, quick(rec));
  r.start();
  REQUIRE(eventually([&] { return sync.count() >= 8; }, milliseconds(10'000)));
  r.stop();
  std::uint32_t offline = 0;
  for (const ReplicatorStatus& s : rec.all()) {
    if (s.state != ReplicatorState::kOffline) continue;
    ++offline;
    CHECK(s.failures == offline);
    const auto full =
        std::min<std::int64_t>(320, 40 << std::min<std::uint32_t>(s.failures - 1, 20));
    INFO("failure " << s.failures << " waits " << s.retry_in.count() << " ms");
    CHECK(s.retry_in.count() >= full / 2);
    CHECK(s.retry_in.count() <= full);
    CHECK(s.last_error.code() == Code::kUnavailable);
  }
  CHECK(offline >= 7);
  CHECK(rec.all().back().state == ReplicatorState::kStopped);

  // The waits between attempts are the backoff's: the 5th attempt comes at least
  // 20 + 40 + 80 + 160 ms after the first.
  CHECK(sync.calls[4] - sync.calls[0] >= milliseconds(300));

  ScriptedSync damaged;
  damaged.script = {Status::damaged("store damaged: record 'visit/x' fails its checksum")};
  Recorder rec2;
  Replicator d([&](const SyncOptions& o) { return damaged(o); }, quick(rec2));
  d.start();
  REQUIRE(d.wait_stopped(milliseconds(5000)));
  CHECK(damaged.count() == 1);
  CHECK(d.status().state == ReplicatorState::kStopped);
  CHECK(d.status().last_error.code() == Code::kDamaged);
}

TEST_CASE("the replicator syncs once a write's debounce has passed, and never polls when idle",
          "[transport][replicator]") {
  ScriptedSync sync;
  sync.script = {SyncReport{}};
  Recorder rec;
  Replicator r([&](const SyncOptions& o) { return sync(o); }, quick(rec));
  r.start();
  REQUIRE(
      eventually([&] { return r.status().state == ReplicatorState::kIdle; }, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(400));
  CHECK(sync.count() == 1);  // nothing changed: no sync

  // Writes 10 ms apart, for 100 ms: one sync, after the debounce following the last write (or
  // four debounces after the first).
  const Steady::time_point first = Steady::now();
  for (int i = 0; i < 10; ++i) {
    r.notify_change();
    std::this_thread::sleep_for(milliseconds(10));
  }
  REQUIRE(eventually([&] { return sync.count() == 2; }, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(300));
  CHECK(sync.count() == 2);
  const milliseconds waited = std::chrono::duration_cast<milliseconds>(sync.calls[1] - first);
  CHECK(waited >= milliseconds(140));
  CHECK(waited <= milliseconds(1000));
  CHECK(r.status().syncs == 2);
  CHECK(r.status().last_sync_ms > 0);
  r.stop();
  CHECK(r.status().state == ReplicatorState::kStopped);

  ReplicatorOptions o = quick(rec);
  o.once = true;
  ScriptedSync flaky;
  flaky.script = {Status::unavailable("cut"), Status::unavailable("cut"), SyncReport{}};
  Replicator once([&](const SyncOptions& so) { return flaky(so); }, o);
  once.start();
  REQUIRE(once.wait_stopped(milliseconds(5000)));
  CHECK(flaky.count() == 3);
  CHECK(once.status().syncs == 1);
}

TEST_CASE_METHOD(test::LiveHub,
                 "through a slow link cut every 2 s and down at first, every write reaches the "
                 "hub with no sync called by hand",
                 "[transport][replicator][net]") {
  test::TestDevice a = enrolled("I0011");
  REQUIRE(sync(a).ok());  // the templates and schools
  test::FaultProxy proxy(server->port());
  proxy.set_down(true);
  proxy.cut_every(milliseconds(2000));
  proxy.set_rate(3 * 1024);  // each way: a session (about 3.5 KB) lasts a second or more
  Syncing own = syncing(*this, a, proxy.port());
  Recorder rec;
  ReplicatorOptions o;
  o.first_retry = milliseconds(100);
  o.max_retry = milliseconds(800);
  o.debounce = milliseconds(100);
  o.pull_every = milliseconds(0);
  o.sync.connect_timeout = o.sync.handshake_timeout = o.sync.io_timeout = milliseconds(3000);
  o.sync.push_batch_ops = 20;
  o.on_status = [&rec](const ReplicatorStatus& s) { rec.add(s); };
  Replicator r(own.sync_once(), o);
  r.start();
  const bool backed_off =
      eventually([&] { return r.status().failures >= 3; }, milliseconds(10'000));
  INFO("last error: " << r.status().last_error.to_string() << "; state "
                      << replicator_state_name(r.status().state));
  REQUIRE(backed_off);
  CHECK(r.status().last_error.code() == Code::kUnavailable);
  proxy.set_down(false);

  // 6 s of work: a visit every 300 ms, each with its required answers; each write wakes the
  // replicator (as the C API's writes do).
  std::vector<std::string> visits;
  const Steady::time_point end = Steady::now() + milliseconds(6000);
  while (Steady::now() < end) {
    Result<std::string> id = a.in->start_visit(test::kSharedSchool, "school-conditions");
    REQUIRE(id.ok());
    test::answer_required(*a.in, id.value());
    visits.push_back(id.value());
    r.notify_change();
    std::this_thread::sleep_for(milliseconds(300));
  }
  // Until the device has seen the hub acknowledge its last op (an ack lost to a cut comes
  // with the next session's welcome).
  const std::uint64_t last = a.engine().stats()->last_own_seq;
  REQUIRE(eventually(
      [&] {
        Result<std::uint64_t> acked = a.engine().counter("push.acked");
        return acked.ok() && acked.value() == last && r.status().state == ReplicatorState::kIdle;
      },
      milliseconds(30'000)));
  CHECK(admin_store->device(a.enrollment.device_id)->acked_seq == last);
  r.stop();
  INFO("proxy: " << proxy.connections() << " connections, " << proxy.cuts() << " cut");
  CHECK(proxy.cuts() >= 4);  // three while down, and at least one cut mid-work

  std::vector<ReplicatorStatus> seen = rec.all();
  std::uint32_t most_failures = 0;
  bool connected = false;
  bool idle = false;
  for (const ReplicatorStatus& s : seen) {
    if (s.state == ReplicatorState::kOffline) {
      most_failures = std::max(most_failures, s.failures);
      CHECK(s.retry_in >= milliseconds(50));
    }
    connected = connected || s.state == ReplicatorState::kBusy;
    idle = idle || s.state == ReplicatorState::kIdle;
  }
  CHECK(most_failures >= 3);
  CHECK(connected);
  CHECK(idle);
  CHECK(seen.back().state == ReplicatorState::kStopped);

  // Every visit is on the hub, and the device says so visit by visit.
  Result<std::map<std::string, VisitSync>> states = visit_sync_states(a.engine());
  REQUIRE(states.ok());
  for (const std::string& v : visits) {
    INFO(v);
    REQUIRE(states->count(v) == 1);
    CHECK(states->at(v).unacked == 0);
    CHECK(states->at(v).last_sent_ms > 0);
    CHECK(admin_store->engine().read("visit/" + std::string(test::kSharedSchool) + "/" + v).ok());
  }
  REQUIRE(a.engine().check_integrity().ok());
}

TEST_CASE_METHOD(test::LiveHub, "stopping the replicator mid-sync returns within a second",
                 "[transport][replicator][net]") {
  test::TestDevice a = enrolled("I0011");
  REQUIRE(sync(a).ok());
  Result<std::string> id = a.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(id.ok());
  test::answer_required(*a.in, id.value());
  const std::uint64_t written = a.engine().stats()->last_own_seq;
  test::FaultProxy proxy(server->port());
  proxy.set_stalled(true);
  Syncing own = syncing(*this, a, proxy.port());
  Recorder rec;
  ReplicatorOptions o;
  o.on_status = [&rec](const ReplicatorStatus& s) { rec.add(s); };
  Replicator r(own.sync_once(), o);
  r.start();
  REQUIRE(eventually([&] { return proxy.connections() >= 1; }, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(200));
  CHECK(r.status().state == ReplicatorState::kConnecting);
  const Steady::time_point asked = Steady::now();
  r.stop();
  const auto took = std::chrono::duration_cast<milliseconds>(Steady::now() - asked);
  INFO("stop took " << took.count() << " ms");
  CHECK(took < milliseconds(1000));
  CHECK(r.status().state == ReplicatorState::kStopped);
  proxy.set_stalled(false);
  REQUIRE(a.engine().check_integrity().ok());
  CHECK(a.engine().stats()->last_own_seq == written);
  CHECK(a.engine().ops_after(0, 100'000)->size() == written);
}

TEST_CASE_METHOD(test::LiveHub, "a pull reports the visits it changed, after they are committed",
                 "[transport][replicator][net]") {
  test::TestDevice a = enrolled("I0011");
  test::TestDevice b = enrolled("I0021");
  REQUIRE(sync(b).ok());
  Result<std::string> id = b.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(id.ok());
  test::answer_required(*b.in, id.value());
  REQUIRE(sync(b).ok());
  REQUIRE(b.in->set_answer(id.value(), "library_books", "12").ok());  // not sent yet

  Syncing own = syncing(*this, a);
  std::mutex seen_mu;
  std::vector<std::string> changed;
  bool readable = false;
  ReplicatorOptions o;
  o.on_synced = [&](const SyncReport& report) {
    // Another connection sees the change: it was committed before the call.
    Result<std::unique_ptr<Inspection>> other =
        Inspection::open(dir().file(a.enrollment.device_id), &clock);
    std::lock_guard<std::mutex> lock(seen_mu);
    readable = other.ok() && other.value()->visit(id.value()).ok();
    for (const std::string& record : report.changed) {
      if (std::optional<std::string> v = visit_of_record(record)) changed.push_back(*v);
    }
  };
  Replicator r(own.sync_once(), o);
  r.start();
  REQUIRE(eventually([&] { return r.status().syncs == 1; }, milliseconds(10'000)));
  r.stop();
  {
    std::lock_guard<std::mutex> lock(seen_mu);
    CHECK(readable);
    CHECK(changed == std::vector<std::string>{id.value()});
  }
  Result<std::map<std::string, VisitSync>> on_a = visit_sync_states(a.engine());
  REQUIRE(on_a.ok());
  REQUIRE(on_a->count(id.value()) == 1);
  CHECK(on_a->at(id.value()).last_received_ms > 0);
  CHECK(on_a->at(id.value()).last_sent_ms == 0);
  Result<std::map<std::string, VisitSync>> on_b = visit_sync_states(b.engine());
  REQUIRE(on_b.ok());
  CHECK(on_b->at(id.value()).unacked == 1);  // the answer written after b's sync
  CHECK(on_b->at(id.value()).last_sent_ms > 0);
}
