// visitsync-bench sessions: many devices (500 by default) sync at once with one visitsync-hub
// process, each pushing 5 visits of the workload. Reports how many sessions succeeded, their
// latency, and the hub's peak memory.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "bench.h"
#include "deployment.h"

namespace vs::bench {

int run_sessions_bench(const BenchArgs& args) {
  Result<Workload> w = bench_workload(args);
  if (!w.ok()) return fail_input(w.status());
  // Device i belongs to inspector i, assigned to the schools of its own visits: each device
  // pulls its scope (its schools and the co-inspectors' visits there), not the whole hub.
  const int n = args.sessions;
  constexpr int kVisitsEach = 5;
  auto visit_of = [&](int device, int k) -> const WorkloadVisit& {
    return w->visits[static_cast<std::size_t>(device * kVisitsEach + k) % w->visits.size()];
  };
  auto inspector_of = [](int device) {
    char id[16];
    std::snprintf(id, sizeof id, "B%05d", device);
    return std::string(id);
  };
  Assignments assigned;
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < kVisitsEach; ++k)
      assigned[inspector_of(i)].insert(visit_of(i, k).school_id);
  }
  Result<std::unique_ptr<BenchDeployment>> dep =
      BenchDeployment::create(args.work_dir + "/sessions", w.value(), assigned);
  if (!dep.ok()) return fail(dep.status());
  note("preparing " + std::to_string(n) + " devices with " + std::to_string(kVisitsEach) +
       " visits each");
  std::vector<std::pair<Enrollment, std::unique_ptr<Inspection>>> devices;
  for (int i = 0; i < n; ++i) {
    auto d = dep.value()->add_device("device-" + std::to_string(i), inspector_of(i));
    if (!d.ok()) return fail(d.status());
    const std::string suffix = std::string("-").append(std::to_string(i));
    for (int k = 0; k < kVisitsEach; ++k) {
      Result<std::vector<OpId>> ids = d->second->engine().write_batch(
          visit_writes(w.value(), visit_of(i, k), suffix, inspector_of(i)));
      if (!ids.ok()) return fail(ids.status());
    }
    devices.push_back(std::move(d.value()));
  }
  if (Status s = dep.value()->start_hub(args.tools_dir); !s.ok()) return fail(s);

  note("syncing all at once");
  std::mutex mu;
  std::condition_variable go;
  bool started = false;
  std::vector<double> ms(static_cast<std::size_t>(n), 0);
  std::vector<int> ok(static_cast<std::size_t>(n), 0);
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      {
        std::unique_lock<std::mutex> lock(mu);
        go.wait(lock, [&] { return started; });
      }
      SyncOptions o;
      o.connect_timeout = o.handshake_timeout = std::chrono::milliseconds(60'000);
      o.io_timeout = std::chrono::milliseconds(120'000);
      const auto t0 = std::chrono::steady_clock::now();
      Result<SyncReport> r = sync_with_hub(devices[static_cast<std::size_t>(i)].second->engine(),
                                           devices[static_cast<std::size_t>(i)].first, o);
      ms[static_cast<std::size_t>(i)] =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const bool pushed_all =
          r.ok() && r->rejected.empty() &&
          r->pushed == devices[static_cast<std::size_t>(i)].second->engine().stats()->last_own_seq;
      ok[static_cast<std::size_t>(i)] = pushed_all ? 1 : 0;
      if (!pushed_all) {
        std::lock_guard<std::mutex> lock(mu);
        errors.push_back(r.ok() ? "incomplete push" : r.status().message());
      }
    });
  }
  const auto t0 = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    started = true;
  }
  go.notify_all();
  for (std::thread& t : threads) t.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double peak = dep.value()->hub_peak_rss_mb();
  if (Status s = dep.value()->stop_hub(); !s.ok()) return fail(s);
  for (std::size_t i = 0; i < errors.size() && i < 5; ++i) note("failed session: " + errors[i]);

  int good = 0;
  for (int v : ok) good += v;
  JsonOut out;
  out.add("bench", "sessions");
  out.add("sessions", n);
  out.add("visits_each", kVisitsEach);
  out.add("sessions_ok", good);
  out.add("sessions_failed", n - good);
  out.add("p50_ms", percentile(ms, 0.50));
  out.add("p99_ms", percentile(ms, 0.99));
  out.add("wall_s", wall);
  out.add("hub_peak_rss_mb", peak);
  std::printf("%s\n", out.str().c_str());
  return good == n ? 0 : 1;
}

}  // namespace vs::bench
