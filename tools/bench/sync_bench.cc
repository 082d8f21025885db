// visitsync-bench sync: the workload (2,000 visits x 150 items by default) pushed from one device
// and pulled into a fresh one over TLS on loopback, through the real visitsync-hub process;
// then the edits file applied on two devices and synced to convergence. Also computes the
// floor: zstd -3 over the compact JSON of each batch of 100 visits.
#include <algorithm>
#include <chrono>

#include <zstd.h>

#include "bench.h"
#include "deployment.h"
#include "edits.h"

namespace vs::bench {
namespace {

using Clock = std::chrono::steady_clock;

double zstd_json_bytes_per_visit(const Workload& w) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < w.visits.size(); i += 100) {
    std::string batch;
    for (std::size_t k = i; k < std::min(w.visits.size(), i + 100); ++k)
      batch += w.visits[k].line + "\n";
    std::string out(ZSTD_compressBound(batch.size()), '\0');
    total += ZSTD_compress(out.data(), out.size(), batch.data(), batch.size(), 3);
  }
  return static_cast<double>(total) / static_cast<double>(w.visits.size());
}

SyncOptions options() {
  SyncOptions o;
  o.connect_timeout = o.handshake_timeout = std::chrono::milliseconds(30'000);
  o.io_timeout = std::chrono::milliseconds(120'000);
  return o;
}

struct Timed {
  SyncReport report;
  double seconds = 0;
};

Result<Timed> timed_sync(Inspection& in, const Enrollment& e) {
  const auto t0 = Clock::now();
  Result<SyncReport> r = sync_with_hub(in.engine(), e, options());
  if (!r.ok()) return r.status();
  return Timed{r.value(), std::chrono::duration<double>(Clock::now() - t0).count()};
}

// The edits of one role as writes; a counter's edit becomes the increment from prev to value.
std::vector<Write> edit_writes(const std::vector<WorkloadEdit>& edits, bool primary,
                               const Workload& w) {
  std::vector<Write> out;
  for (const WorkloadEdit& e : edits) {
    if (e.primary != primary) continue;
    const WorkloadVisit& v = w.visits[e.visit];
    const WorkloadItem& item = w.items[e.item];
    Value value = e.value;
    if (item.policy == Policy::kCounter) {
      const std::int64_t before = e.prev.is_null() ? 0 : e.prev.as_integer();
      value = Value::integer((e.value.is_null() ? 0 : e.value.as_integer()) - before);
    }
    out.push_back(Write{visit_record(v), "a." + item.key, item.policy, std::move(value), 1});
  }
  return out;
}

Status write_in_batches(Engine& e, const std::vector<Write>& writes, std::size_t n) {
  for (std::size_t i = 0; i < writes.size(); i += n) {
    std::vector<Write> part(
        writes.begin() + static_cast<std::ptrdiff_t>(i),
        writes.begin() + static_cast<std::ptrdiff_t>(std::min(writes.size(), i + n)));
    Result<std::vector<OpId>> ids = e.write_batch(part);
    if (!ids.ok()) return ids.status();
  }
  return Status();
}

}  // namespace

int run_sync_bench(const BenchArgs& args) {
  Result<Workload> w = bench_workload(args);
  if (!w.ok()) return fail_input(w.status());
  const Result<std::string> edits_file =
      args.edits.empty() ? generated_file(args.work_dir, {args.visits, args.items, 42}, true)
                         : Result<std::string>(args.edits);
  if (!edits_file.ok()) return fail_input(edits_file.status());
  Result<std::vector<WorkloadEdit>> edits = load_edits(edits_file.value(), w.value());
  if (!edits.ok()) return fail_input(edits.status());

  // The push is timed on three fresh deployments (the machine is shared and noisy: the median
  // counts); the pull and the edits use the last one.
  constexpr int kPushRounds = 3;
  std::vector<double> push_seconds;
  std::unique_ptr<BenchDeployment> dep;
  std::unique_ptr<Inspection> da_holder;
  Enrollment ea;
  Result<Timed> push = Status::internal("no push");
  for (int round = 0; round < kPushRounds; ++round) {
    if (dep) (void)dep->stop_hub();
    da_holder.reset();
    dep.reset();
    Result<std::unique_ptr<BenchDeployment>> made = BenchDeployment::create(
        args.work_dir + "/sync", w.value(), one_inspector_everywhere(w.value()));
    if (!made.ok()) return fail(made.status());
    dep = std::move(made.value());
    auto a = dep->add_device("device-a");
    if (!a.ok()) return fail(a.status());
    ea = a->first;
    da_holder = std::move(a->second);
    if (Status s = dep->start_hub(args.tools_dir); !s.ok()) return fail(s);
    note("round " + std::to_string(round + 1) + ": device a syncs, writes " +
         std::to_string(w->visits.size()) + " visits offline, pushes");
    if (Result<Timed> first = timed_sync(*da_holder, ea); !first.ok()) return fail(first.status());
    for (const WorkloadVisit& v : w->visits) {
      Result<std::vector<OpId>> ids = da_holder->engine().write_batch(visit_writes(w.value(), v));
      if (!ids.ok()) return fail(ids.status());
    }
    push = timed_sync(*da_holder, ea);
    if (!push.ok()) return fail(push.status());
    if (!push->report.rejected.empty())
      return fail(Status::internal("the hub rejected: " + push->report.rejected[0].second));
    push_seconds.push_back(push->seconds);
  }
  auto b = dep->add_device("device-b");
  if (!b.ok()) return fail(b.status());
  Inspection& da = *da_holder;
  Inspection& db = *b->second;
  note("device b, fresh, pulls");
  Result<Timed> pull = timed_sync(db, b->first);
  if (!pull.ok()) return fail(pull.status());

  note("edits: device a (the visits' own) and device b (a co-inspector), then sync to convergence");
  const std::vector<Write> primary = edit_writes(edits.value(), true, w.value());
  const std::vector<Write> second = edit_writes(edits.value(), false, w.value());
  if (Status s = write_in_batches(da.engine(), primary, 1000); !s.ok()) return fail(s);
  if (Status s = write_in_batches(db.engine(), second, 1000); !s.ok()) return fail(s);
  std::uint64_t edit_bytes = 0;
  for (Inspection* d : {&da, &db, &da}) {
    const Enrollment& e = d == &da ? ea : b->first;
    Result<Timed> t = timed_sync(*d, e);
    if (!t.ok()) return fail(t.status());
    edit_bytes += t->report.bytes_sent + t->report.bytes_received;
  }
  const bool converged = da.engine().digest().value() == db.engine().digest().value();
  Result<std::vector<Flag>> flags = da.flags();
  const double peak = dep->hub_peak_rss_mb();
  if (Status s = dep->stop_hub(); !s.ok()) return fail(s);

  const double visits = static_cast<double>(w->visits.size());
  const double edit_ops = static_cast<double>(primary.size() + second.size());
  JsonOut out;
  out.add("bench", "sync");
  out.add("visits", visits);
  out.add("items", static_cast<double>(w->items.size()));
  out.add("push_ops", static_cast<double>(push->report.pushed));
  const double push_s = median(push_seconds);
  out.add("push_rounds", static_cast<double>(push_seconds.size()));
  out.add("push_s", push_s);
  out.add("pull_s", pull->seconds);
  out.add("visits_per_s", visits / push_s);
  out.add("visits_per_s_min", visits / *std::max_element(push_seconds.begin(), push_seconds.end()));
  out.add("visits_per_s_max", visits / *std::min_element(push_seconds.begin(), push_seconds.end()));
  out.add("pull_visits_per_s", visits / pull->seconds);
  out.add("wire_bytes_per_visit",
          static_cast<double>(push->report.bytes_sent + push->report.bytes_received) / visits);
  out.add("pull_wire_bytes_per_visit",
          static_cast<double>(pull->report.bytes_sent + pull->report.bytes_received) / visits);
  out.add("edit_ops", edit_ops);
  out.add("wire_bytes_per_edit_op", static_cast<double>(edit_bytes) / edit_ops);
  out.add("zstd_json_bytes_per_visit", zstd_json_bytes_per_visit(w.value()));
  out.add("converged", converged ? "yes" : "no");
  out.add("conflicts_flagged", flags.ok() ? static_cast<double>(flags->size()) : -1);
  out.add("hub_peak_rss_mb", peak);
  std::printf("%s\n", out.str().c_str());
  return converged ? 0 : 1;
}

}  // namespace vs::bench
