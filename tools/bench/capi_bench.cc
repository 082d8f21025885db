// visitsync-bench capi: what the C API costs over the C++ it wraps, and what the replicator
// costs when nothing happens.
//
// Two enrolled devices of one deployment, each synced once with the real hub: one written
// through Inspection::set_answer, the other through vs_visit_set in the shared libvisitsync
// (as an app links it). Single answer writes alternate between the two, one by one, so that
// both see the same moments of a noisy machine; at full durability (each write fsynced) and
// at normal. Then the C API device's replicator, started with the defaults and idle, is
// watched for --idle-seconds: the process's CPU time and its threads' context switches.
#include <chrono>
#include <cstdio>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>
#include <visitsync.h>

#include <visitsync/inspection.h>

#include "bench.h"
#include "deployment.h"
#include "workload.h"

namespace vs::bench {
namespace {

using Steady = std::chrono::steady_clock;

double us_since(Steady::time_point t0) {
  return std::chrono::duration<double, std::micro>(Steady::now() - t0).count();
}

// A C API call's failure as a Status; its message (*error) is freed and *error cleared.
Status capi_status(vs_code code, char** error) {
  Status s = code == VS_OK ? Status() : Status(static_cast<Code>(code), *error ? *error : "");
  vs_free(*error);
  *error = nullptr;
  return s;
}

// Context switches (voluntary and not) of every thread of this process but the calling one.
std::uint64_t other_threads_switches() {
  std::uint64_t n = 0;
  const std::string self = std::to_string(gettid());
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) {
    const std::string tid = e->d_name;
    if (tid == "." || tid == ".." || tid == self) continue;
    std::ifstream in("/proc/self/task/" + tid + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.find("ctxt_switches:") != std::string::npos)
        n += std::stoull(line.substr(line.find(':') + 1));
    }
  }
  closedir(d);
  return n;
}

double cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The first integer item of the workload's checklist, which takes "1" and "2".
Result<std::string> integer_item(const Workload& w) {
  for (const WorkloadItem& i : w.items) {
    if (i.type == "integer" && i.policy == Policy::kLww) return i.key;
  }
  return Status::invalid_input("the workload's checklist has no integer item");
}

struct Timings {
  std::vector<double> cpp_us, capi_us;
};

// `count` answer writes to each device in turn, the value alternating so each write changes it.
Status paired(Inspection& cpp, const std::string& cpp_visit, vs_db* db,
              const std::string& capi_visit, const std::string& item, int count, Timings& t) {
  for (int k = 0; k < count; ++k) {
    const std::string value = k % 2 == 0 ? "1" : "2";
    for (bool capi : {k % 2 == 0, k % 2 != 0}) {
      const Steady::time_point t0 = Steady::now();
      Status s;
      if (capi) {
        char* error = nullptr;
        s = capi_status(vs_visit_set(db, capi_visit.c_str(), item.c_str(), value.c_str(), &error),
                        &error);
      } else {
        s = cpp.set_answer(cpp_visit, item, value);
      }
      if (!s.ok()) return s;
      (capi ? t.capi_us : t.cpp_us).push_back(us_since(t0));
    }
  }
  return Status();
}

struct Devices {
  std::unique_ptr<Inspection> cpp;
  vs_db* db = nullptr;
  std::string cpp_visit, capi_visit;
  Devices() = default;
  ~Devices() { vs_release(db); }
  Devices(const Devices&) = delete;
  Devices& operator=(const Devices&) = delete;
  Devices(Devices&&) = delete;
  Devices& operator=(Devices&&) = delete;
};

// Both devices synced once (templates and schools), at `durability`, with a visit started.
Status open_devices(BenchDeployment& dep, const Workload& w, vs_durability durability,
                    const std::string& tag, Devices& d) {
  auto a = dep.add_device("cpp-" + tag);
  if (!a.ok()) return a.status();
  if (Result<SyncReport> r = sync_with_hub(a->second->engine(), a->first, SyncOptions{}); !r.ok())
    return r.status();
  a->second.reset();
  Result<std::unique_ptr<Inspection>> cpp =
      Inspection::open(dep.dir() + "/cpp-" + tag, nullptr,
                       durability == VS_DURABILITY_FULL ? Durability::kFull : Durability::kNormal);
  if (!cpp.ok()) return cpp.status();
  d.cpp = std::move(cpp.value());
  auto b = dep.add_device("capi-" + tag);
  if (!b.ok()) return b.status();
  const std::string enrollment = enrollment_json(b->first);
  b->second.reset();
  const std::string dir = dep.dir() + "/capi-" + tag + "-c";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // a last run's
  vs_open_options o;
  vs_open_options_init(&o);
  o.durability = durability;
  char* error = nullptr;
  Status s = capi_status(
      vs_enroll_bytes(dir.c_str(), enrollment.data(), enrollment.size(), &o, &d.db, &error),
      &error);
  if (!s.ok()) return s;
  if (s = capi_status(vs_sync(d.db, nullptr, nullptr, nullptr, nullptr, &error), &error); !s.ok())
    return s;
  const std::string school = w.visits.front().school_id;
  Result<std::string> v = d.cpp->start_visit(school, w.template_id);
  if (!v.ok()) return v.status();
  d.cpp_visit = v.value();
  char* id = nullptr;
  s = capi_status(vs_visit_start(d.db, school.c_str(), w.template_id.c_str(), &id, &error), &error);
  if (!s.ok()) return s;
  d.capi_visit = id;
  vs_free(id);
  return Status();
}

void add_writes(JsonOut& out, const std::string& prefix, const Timings& t) {
  out.add(prefix + "cpp_p50_us", percentile(t.cpp_us, 0.5));
  out.add(prefix + "capi_p50_us", percentile(t.capi_us, 0.5));
  out.add(prefix + "cpp_p99_us", percentile(t.cpp_us, 0.99));
  out.add(prefix + "capi_p99_us", percentile(t.capi_us, 0.99));
  out.add(prefix + "capi_p50_ratio", percentile(t.capi_us, 0.5) / percentile(t.cpp_us, 0.5));
}

}  // namespace

int run_capi_bench(const BenchArgs& args) {
  BenchArgs small = args;
  small.visits = 10;
  Result<Workload> w = bench_workload(small);
  if (!w.ok()) return fail_input(w.status());
  Result<std::string> item = integer_item(w.value());
  if (!item.ok()) return fail_input(item.status());
  Result<std::unique_ptr<BenchDeployment>> dep = BenchDeployment::create(
      args.work_dir + "/capi", w.value(), one_inspector_everywhere(w.value()));
  if (!dep.ok()) return fail(dep.status());
  if (Status s = dep.value()->start_hub(args.tools_dir); !s.ok()) return fail(s);
  JsonOut out;
  out.add("bench", "capi");
  out.add("writes", args.writes);
  Devices full;
  Devices normal;
  for (const auto& [durability, tag] :
       {std::pair{VS_DURABILITY_FULL, "full"}, std::pair{VS_DURABILITY_NORMAL, "normal"}}) {
    Devices& d = durability == VS_DURABILITY_FULL ? full : normal;
    if (Status s = open_devices(*dep.value(), w.value(), durability, tag, d); !s.ok())
      return fail(s);
    note(std::string("single answer writes at ") + tag + " durability, C++ and C API in turn");
    Timings t;
    if (Status s = paired(*d.cpp, d.cpp_visit, d.db, d.capi_visit, item.value(), args.writes, t);
        !s.ok())
      return fail(s);
    add_writes(out, std::string("write_") + (durability == VS_DURABILITY_FULL ? "" : "normal_"), t);
  }

  note("the replicator, idle with the default options, for " + std::to_string(args.idle_s) + " s");
  char* error = nullptr;
  if (Status s = capi_status(vs_replicator_start(full.db, nullptr, &error), &error); !s.ok())
    return fail(s);
  const Steady::time_point deadline = Steady::now() + std::chrono::seconds(30);
  for (;;) {
    char* json = nullptr;
    if (Status s = capi_status(vs_replicator_status_json(full.db, &json, &error), &error); !s.ok())
      return fail(s);
    const bool idle = std::string(json).find("\"state\":\"idle\"") != std::string::npos;
    vs_free(json);
    if (idle) break;
    if (Steady::now() > deadline) return fail(Status::unavailable("the replicator never idled"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double cpu0 = cpu_s();
  const std::uint64_t switches0 = other_threads_switches();
  std::this_thread::sleep_for(std::chrono::seconds(args.idle_s));
  const double cpu = cpu_s() - cpu0;
  const std::uint64_t switches = other_threads_switches() - switches0;
  if (Status s = capi_status(vs_replicator_stop(full.db, &error), &error); !s.ok()) return fail(s);
  out.add("idle_s", args.idle_s);
  out.add("idle_cpu_pct", 100.0 * cpu / args.idle_s);
  out.add("idle_wakeups_per_min", static_cast<double>(switches) * 60.0 / args.idle_s);
  out.add("idle_pull_every_s", 300);
  std::printf("%s\n", out.str().c_str());
  return 0;
}

}  // namespace vs::bench
