// visitsync-bench sessions: --sessions devices (500 by default) each sync once with one
// visitsync-hub process, at most --concurrency (256) sessions at a time, the next starting as
// one ends. Reports the sessions' latency and failures, and what they cost the hub: its CPU
// time per session and its peak memory.
//
// The workload's shape, the same per session whatever --sessions is: devices come in pairs,
// and the two inspectors of a pair are assigned to five schools of their own (BP<pair>-<k>),
// as two inspectors share an assignment in the field. Each device records five visits, one in
// each school of its pair, with the answers of the workload's visits taken in turn. Its session
// pushes those 5 visits (785 ops with the default 150 items) and pulls its scope: its partner's
// five visits, the pair's school records, the template and its own inspector records.
//
// What runs is the hub, not its load: before the clock starts every device is enrolled, its
// visits recorded by the real engine in a store of its own, its frames and TLS context made
// (load_client.h), and its store closed and deleted. During the run the bench process only
// does TLS and sends and reads frames, on two threads; its own CPU time is reported too.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <span>
#include <sys/resource.h>

#include "bench.h"
#include "deployment.h"
#include "load_client.h"

namespace vs::bench {
namespace {

constexpr int kVisitsEach = 5;

std::string inspector_of(int device) {
  char id[16];
  std::snprintf(id, sizeof id, "B%05d", device);
  return id;
}

// School k of the pair device `device` belongs to.
std::string pair_school(int device, int k) {
  char id[24];
  std::snprintf(id, sizeof id, "BP%05d-%d", device / 2, k);
  return id;
}

Assignments pair_assignments(int n) {
  Assignments a;
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < kVisitsEach; ++k) a[inspector_of(i)].insert(pair_school(i, k));
  }
  return a;
}

// Device i's visit k: a workload visit's answers, in school k of its pair.
WorkloadVisit visit_of(const Workload& w, int device, int k) {
  WorkloadVisit v = w.visits[static_cast<std::size_t>(device * kVisitsEach + k) % w.visits.size()];
  v.school_id = pair_school(device, k);
  return v;
}

void remove_store(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
}

// Device i's session: enrolled, its visits recorded by the real engine in a store of its own
// (without a disk flush per commit: the bench needs the ops, not their durability), its frames
// made; the store is then closed and deleted.
Result<PreparedDevice> prepare_one(BenchDeployment& dep, const Workload& w, int i) {
  Result<Enrollment> e = dep.enroll(inspector_of(i));
  if (!e.ok()) return e.status();
  const std::string path = dep.dir() + "/device-" + std::to_string(i) + ".db";
  remove_store(path);
  Options o;
  o.device_id = e->device_id;
  o.durability = Durability::kNormal;
  Result<PreparedDevice> p = Status::internal("not prepared");
  {
    Result<std::unique_ptr<Engine>> engine = Engine::open(path, o);
    if (!engine.ok()) return engine.status();
    const std::string suffix = "-" + std::to_string(i);
    for (int k = 0; k < kVisitsEach; ++k) {
      Result<std::vector<OpId>> ids =
          engine.value()->write_batch(visit_writes(w, visit_of(w, i, k), suffix, inspector_of(i)));
      if (!ids.ok()) return ids.status();
    }
    p = prepare_device(*engine.value(), e.value());
  }
  remove_store(path);
  return p;
}

Status prepare(BenchDeployment& dep, const Workload& w, int n,
               std::vector<PreparedDevice>& devices) {
  for (int i = 0; i < n; ++i) {
    Result<PreparedDevice> p = prepare_one(dep, w, i);
    if (!p.ok()) return p.status();
    devices.push_back(std::move(p.value()));
    if ((i + 1) % 1000 == 0) note("prepared " + std::to_string(i + 1) + " devices");
  }
  return Status();
}

double cpu_seconds_of_this_process() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

// How many connections a second the hub takes through their TLS handshake alone, at the
// same concurrency: up to kProbe connections of the devices, each closed after its handshake.
double handshake_rate(std::span<const PreparedDevice> devices, LoadOptions o) {
  constexpr std::size_t kProbe = 1000;
  o.handshake_only = true;
  const std::span<const PreparedDevice> some = devices.first(std::min(devices.size(), kProbe));
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<SessionOutcome> done = run_load(some, o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t ok = 0;
  for (const SessionOutcome& r : done) ok += r.ok ? 1 : 0;
  if (ok < done.size()) note(std::to_string(done.size() - ok) + " handshakes of the probe failed");
  return static_cast<double>(ok) / s;
}

}  // namespace

int run_sessions_bench(const BenchArgs& args) {
  Result<Workload> w = bench_workload(args);
  if (!w.ok()) return fail_input(w.status());
  const int n = args.sessions;
  Result<std::unique_ptr<BenchDeployment>> dep =
      BenchDeployment::create(args.work_dir + "/sessions", w.value(), pair_assignments(n));
  if (!dep.ok()) return fail(dep.status());
  note("preparing " + std::to_string(n) + " devices with " + std::to_string(kVisitsEach) +
       " visits each");
  std::vector<PreparedDevice> devices;
  devices.reserve(static_cast<std::size_t>(n));
  if (Status s = prepare(*dep.value(), w.value(), n, devices); !s.ok()) return fail(s);
  if (Status s = dep.value()->start_hub(args.tools_dir); !s.ok()) return fail(s);

  LoadOptions o;
  o.concurrency = static_cast<std::size_t>(args.concurrency);
  const double handshakes_per_s = handshake_rate(devices, o);
  note("syncing, " + std::to_string(args.concurrency) + " sessions at a time");
  const BenchDeployment::Cpu hub0 = dep.value()->hub_cpu();
  const double bench0 = cpu_seconds_of_this_process();
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<SessionOutcome> outcomes = run_load(devices, o);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double bench_cpu = cpu_seconds_of_this_process() - bench0;
  const BenchDeployment::Cpu hub1 = dep.value()->hub_cpu();
  const double peak = dep.value()->hub_peak_rss_mb();
  if (Status s = dep.value()->stop_hub(); !s.ok()) return fail(s);
  const double store_busy = dep.value()->hub_store_busy_s();

  int good = 0;
  int told = 0;
  double pushed = 0;
  double pulled = 0;
  std::vector<double> ms;
  for (const SessionOutcome& r : outcomes) {
    pushed += static_cast<double>(r.pushed);
    pulled += static_cast<double>(r.pulled);
    if (r.ok) {
      ++good;
      ms.push_back(r.ms);
    } else if (told++ < 5) {
      note("failed session: " + r.error);
    }
  }
  const double hub_cpu = hub1.total_s - hub0.total_s;
  const double hub_io = hub1.main_s - hub0.main_s;
  JsonOut out;
  out.add("bench", "sessions");
  out.add("sessions", n);
  out.add("concurrency", args.concurrency);
  out.add("visits_each", kVisitsEach);
  out.add("sessions_ok", good);
  out.add("sessions_failed", n - good);
  out.add("p50_ms", percentile(ms, 0.50));
  out.add("p99_ms", percentile(ms, 0.99));
  out.add("wall_s", wall);
  out.add("sessions_per_s", n / wall);
  out.add("handshakes_per_s", handshakes_per_s);
  out.add("handshake_limited_s", n / handshakes_per_s);
  out.add("store_limited_s", store_busy);
  out.add("hub_cpu_s", hub_cpu);
  out.add("hub_cpu_ms_per_session", 1000 * hub_cpu / n);
  out.add("hub_io_cpu_s", hub_io);
  out.add("hub_store_cpu_s", hub_cpu - hub_io);
  out.add("hub_peak_rss_mb", peak);
  out.add("bench_cpu_s", bench_cpu);
  out.add("ops_pushed", pushed);
  out.add("ops_pulled", pulled);
  std::printf("%s\n", out.str().c_str());
  return good == n ? 0 : 1;
}

}  // namespace vs::bench
