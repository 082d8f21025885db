// visitsync-bench engine: local write latency, batched local writes, apply_remote throughput on
// a store that already holds the workload's 300,000 ops, and SQLite's own insert rate on
// equivalent rows in the same run (so the ratio can be read on a noisy machine).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <sqlite3.h>

#include <visitsync/engine.h>

#include "bench.h"
#include "store/db.h"
#include "workload.h"

namespace vs::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Result<std::unique_ptr<Engine>> fresh_engine(const std::string& path, const std::string& device,
                                             Durability d) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  Options o;
  o.device_id = device;
  o.durability = d;
  return Engine::open(path, o);
}

// SQLite alone: the same rows as the engine's op log, in one plain table with no index, by one
// prepared statement, one transaction a batch, with the engine's pragmas.
class RawStore {
 public:
  RawStore() = default;
  RawStore(const RawStore&) = delete;
  RawStore& operator=(const RawStore&) = delete;
  RawStore(RawStore&&) = delete;
  RawStore& operator=(RawStore&&) = delete;
  ~RawStore() {
    sqlite3_finalize(stmt_);
    sqlite3_close(db_);
  }
  Status open(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) return Status::io("cannot open " + path);
    const char* setup =
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
        "CREATE TABLE ops(pos INTEGER PRIMARY KEY, device INTEGER NOT NULL, seq INTEGER NOT NULL,"
        " hlc INTEGER NOT NULL, record INTEGER NOT NULL, field INTEGER NOT NULL, policy INTEGER "
        "NOT "
        "NULL, context INTEGER NOT NULL, value BLOB NOT NULL, base BLOB) STRICT";
    if (sqlite3_exec(db_, setup, nullptr, nullptr, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_,
                           "INSERT INTO ops(device, seq, hlc, record, field, policy, context, "
                           "value, base) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                           -1, &stmt_, nullptr) != SQLITE_OK) {
      return Status::io(std::string("raw setup: ") + sqlite3_errmsg(db_));
    }
    return Status();
  }
  // Inserts the rows of `ops` in one transaction; returns the seconds it took. The values are
  // encoded before the clock starts: SQLite's own time only.
  Result<double> insert(const std::vector<Op>& ops) {
    std::vector<std::string> values(ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) encode_value(ops[i].value, values[i]);
    const auto t0 = Clock::now();
    sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i];
      sqlite3_bind_int64(stmt_, 1, 2);
      sqlite3_bind_int64(stmt_, 2, static_cast<sqlite3_int64>(op.id.seq));
      sqlite3_bind_int64(stmt_, 3, static_cast<sqlite3_int64>(op.hlc));
      sqlite3_bind_int64(stmt_, 4, static_cast<sqlite3_int64>(++rows_ / 150));
      sqlite3_bind_int64(stmt_, 5, static_cast<sqlite3_int64>(rows_ % 150));  // an interned field
      sqlite3_bind_int(stmt_, 6, static_cast<int>(op.policy));
      sqlite3_bind_int(stmt_, 7, 0);
      sqlite3_bind_blob(stmt_, 8, values[i].data(), static_cast<int>(values[i].size()),
                        SQLITE_STATIC);
      sqlite3_bind_null(stmt_, 9);
      if (sqlite3_step(stmt_) != SQLITE_DONE)
        return Status::io(std::string("raw insert: ") + sqlite3_errmsg(db_));
      sqlite3_reset(stmt_);
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Status::io(std::string("raw commit: ") + sqlite3_errmsg(db_));
    }
    return seconds_since(t0);
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::int64_t rows_ = 0;
};

std::vector<std::vector<Op>> batches_of(const std::vector<Op>& ops, std::size_t n) {
  std::vector<std::vector<Op>> out;
  for (std::size_t i = 0; i < ops.size(); i += n) {
    out.emplace_back(ops.begin() + static_cast<std::ptrdiff_t>(i),
                     ops.begin() + static_cast<std::ptrdiff_t>(std::min(ops.size(), i + n)));
  }
  return out;
}

// The i-th of the bench's single local writes: the visits' answers in turn, 150 to a visit.
Write local_write(const Workload& w, int i) {
  const WorkloadVisit& v = w.visits[static_cast<std::size_t>(i / 150) % w.visits.size()];
  const std::size_t item = static_cast<std::size_t>(i) % w.items.size();
  Write wr{"local/" + v.id, w.items[item].key, w.items[item].policy, v.answers[item], 0};
  if (wr.policy == Policy::kCounter && wr.value.is_null()) wr.value = Value::integer(1);
  return wr;
}

// Whole visits written with write_batch (one transaction per visit): ops per second.
Result<double> batched_writes(Engine& e, const Workload& w, int visits) {
  std::size_t n = 0;
  const auto t0 = Clock::now();
  for (int k = 0; k < visits; ++k) {
    const WorkloadVisit& v = w.visits[static_cast<std::size_t>(k) % w.visits.size()];
    std::vector<Write> writes;
    for (std::size_t i = 0; i < w.items.size(); ++i) {
      Write wr{"batch/" + std::to_string(k) + "/" + v.id, w.items[i].key, w.items[i].policy,
               v.answers[i], 0};
      if (wr.policy == Policy::kCounter && wr.value.is_null()) wr.value = Value::integer(1);
      writes.push_back(std::move(wr));
    }
    Result<std::vector<OpId>> ids = e.write_batch(writes);
    if (!ids.ok()) return ids.status();
    n += writes.size();
  }
  return static_cast<double>(n) / seconds_since(t0);
}

// Applies each batch; returns the seconds each took.
Result<std::vector<double>> timed_apply(Engine& e, const std::vector<std::vector<Op>>& batches) {
  std::vector<double> secs;
  for (const auto& batch : batches) {
    const auto t0 = Clock::now();
    Result<ApplyReport> r = e.apply_remote(batch);
    secs.push_back(seconds_since(t0));
    if (!r.ok()) return r.status();
    if (!r->rejected.empty()) return r->rejected[0].reason;
  }
  return secs;
}

std::vector<double> rates(const std::vector<double>& secs, double per) {
  std::vector<double> out;
  out.reserve(secs.size());
  for (double s : secs) out.push_back(per / s);
  return out;
}

// Runs `f` with the row checksums' hashing on or off (store::set_row_hashing).
template <class F>
auto hashing(bool on, F f) {
  store::set_row_hashing(on);
  auto r = f();
  store::set_row_hashing(true);
  return r;
}

// SQLite's quick check over a store file: seconds.
Result<double> quick_check_secs(const std::string& path) {
  sqlite3* db = nullptr;
  const auto t0 = Clock::now();
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, "PRAGMA quick_check", nullptr, nullptr, nullptr);
  const double secs = seconds_since(t0);
  sqlite3_close(db);
  if (rc != SQLITE_OK) return Status::io(path + ": quick check failed");
  return secs;
}

// Bytes this process has written through write() and pwrite() so far (/proc/self/io wchar): what
// the store's WAL is sent, whatever the page cache does with it. 0 where /proc is absent.
double written_bytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  double value = 0;
  while (io >> key >> value) {
    if (key == "wchar:") return value;
  }
  return 0;
}

// The two stores the run compares: checksums on (the product) and their hashing off.
struct Pair {
  std::unique_ptr<Engine> on, off;
};

// Single local writes, each its own transaction, made to the two stores in turn (which one goes
// first alternates), so that both see the same moments of a noisy machine: each write's
// microseconds, and the bytes the writes of each store sent to the file system.
struct PairedWrites {
  std::vector<double> on_us, off_us;
  double on_bytes = 0;
  double off_bytes = 0;
};

Status paired_writes(Pair& p, const Workload& w, int count, PairedWrites& out) {
  for (int i = 0; i < count; ++i) {
    const Write wr = local_write(w, i);
    for (bool on : {i % 2 == 0, i % 2 != 0}) {
      store::set_row_hashing(on);
      const double bytes0 = written_bytes();
      const auto t0 = Clock::now();
      Result<OpId> id = (on ? *p.on : *p.off).write(wr);
      const double us = seconds_since(t0) * 1e6;
      store::set_row_hashing(true);
      if (!id.ok()) return id.status();
      (on ? out.on_us : out.off_us).push_back(us);
      (on ? out.on_bytes : out.off_bytes) += written_bytes() - bytes0;
    }
  }
  return Status();
}

}  // namespace

int run_engine_bench(const BenchArgs& args) {
  const std::string dir = args.work_dir;
  Result<Workload> preload_w = bench_workload(args);
  if (!preload_w.ok()) return fail_input(preload_w.status());
  // Further visits to apply: a generated workload of 800 visits (seed 43) with as many items.
  const WorkloadSpec extra_spec{800, static_cast<int>(preload_w->items.size()), 43};
  Result<std::string> extra_file = generated_file(dir, extra_spec, false);
  if (!extra_file.ok()) return fail_input(extra_file.status());
  Result<Workload> extra_w = load_visits(extra_file.value());
  if (!extra_w.ok()) return fail_input(extra_w.status());
  // The extra visits come from other devices than the preload's, so their seqs are new.
  for (WorkloadVisit& v : extra_w->visits) v.device_id = "B-" + v.device_id;
  constexpr std::size_t kBatch = 10'000;
  const auto preload = batches_of(visits_as_ops(preload_w.value()), kBatch);
  const auto extra = batches_of(visits_as_ops(extra_w.value()), kBatch);

  Pair e;
  for (bool on : {true, false}) {
    Result<std::unique_ptr<Engine>> opened = hashing(on, [&] {
      return fresh_engine(dir + (on ? "/engine.db" : "/engine-nocrc.db"), "bench-device",
                          Durability::kFull);
    });
    if (!opened.ok()) return fail(opened.status());
    (on ? e.on : e.off) = std::move(opened.value());
  }
  RawStore raw;
  if (Status s = raw.open(dir + "/raw.db"); !s.ok()) return fail(s);
  note("preloading the three stores with " + std::to_string(preload.size() * kBatch) + " ops");
  Result<std::vector<double>> preload_secs = timed_apply(*e.on, preload);
  if (!preload_secs.ok()) return fail(preload_secs.status());
  if (Result<std::vector<double>> p = hashing(false, [&] { return timed_apply(*e.off, preload); });
      !p.ok()) {
    return fail(p.status());
  }
  for (const auto& batch : preload) {
    if (Result<double> r = raw.insert(batch); !r.ok()) return fail(r.status());
  }
  // Batch by batch, alternating, so that all see the same moments of a noisy machine.
  note("applying 10,000-op batches, and inserting the same rows into plain SQLite");
  std::vector<double> apply_rates, apply_off_rates, raw_rates;
  // The two stores take turns at going first: the second apply of a batch finds its ops warm.
  for (std::size_t k = 0; k < extra.size(); ++k) {
    const auto& batch = extra[k];
    const auto n = static_cast<double>(batch.size());
    for (bool on : {k % 2 == 0, k % 2 != 0}) {
      Result<std::vector<double>> a =
          hashing(on, [&] { return timed_apply(on ? *e.on : *e.off, {batch}); });
      if (!a.ok()) return fail(a.status());
      (on ? apply_rates : apply_off_rates).push_back(n / a->front());
    }
    Result<double> r = raw.insert(batch);
    if (!r.ok()) return fail(r.status());
    raw_rates.push_back(n / r.value());
  }
  note("single local writes, and whole visits written at once");
  PairedWrites writes;
  std::vector<double> batched, batched_off;
  for (int round = 0; round < 4; ++round) {
    if (Status s = paired_writes(e, preload_w.value(), args.writes / 4, writes); !s.ok()) {
      return fail(s);
    }
    for (bool on : {round % 2 == 0, round % 2 != 0}) {
      Engine& eng = on ? *e.on : *e.off;
      Result<double> b = hashing(on, [&] { return batched_writes(eng, preload_w.value(), 25); });
      if (!b.ok()) return fail(b.status());
      (on ? batched : batched_off).push_back(b.value());
    }
  }
  e.on.reset();
  hashing(false, [&] {
    e.off.reset();
    return 0;
  });
  Result<double> check = quick_check_secs(dir + "/engine.db");
  if (!check.ok()) return fail(check.status());
  const std::uintmax_t store_bytes = std::filesystem::file_size(dir + "/engine.db");

  // Durability normal (no fsync a commit): the write's own CPU, which the checksums add to.
  Pair normal;
  for (bool on : {true, false}) {
    Result<std::unique_ptr<Engine>> opened = hashing(on, [&] {
      return fresh_engine(dir + (on ? "/engine-normal.db" : "/engine-normal-nocrc.db"),
                          "bench-device", Durability::kNormal);
    });
    if (!opened.ok()) return fail(opened.status());
    (on ? normal.on : normal.off) = std::move(opened.value());
  }
  PairedWrites normal_writes;
  if (Status s = paired_writes(normal, preload_w.value(), args.writes, normal_writes); !s.ok()) {
    return fail(s);
  }
  normal.on.reset();
  hashing(false, [&] {
    normal.off.reset();
    return 0;
  });

  const double apply_rate = median(apply_rates);
  const double raw_rate = median(raw_rates);
  JsonOut out;
  out.add("bench", "engine");
  out.add("durability", "full");
  out.add("preload_ops", static_cast<double>(preload.size() * kBatch));
  out.add("write_p50_us", percentile(writes.on_us, 0.50));
  out.add("write_p99_us", percentile(writes.on_us, 0.99));
  out.add("write_normal_p50_us", percentile(normal_writes.on_us, 0.50));
  out.add("write_normal_p99_us", percentile(normal_writes.on_us, 0.99));
  out.add("local_writes_per_s", median(batched));
  out.add("preload_apply_ops_per_s", median(rates(preload_secs.value(), kBatch)));
  out.add("apply_ops_per_s", apply_rate);
  out.add("sqlite_raw_inserts_per_s", raw_rate);
  out.add("apply_to_raw_ratio", apply_rate / raw_rate);
  // What the row checksums cost: time with them over time with their hashing off.
  out.add("checksum_write_p50_ratio",
          percentile(writes.on_us, 0.50) / percentile(writes.off_us, 0.50));
  out.add("checksum_write_normal_p50_ratio",
          percentile(normal_writes.on_us, 0.50) / percentile(normal_writes.off_us, 0.50));
  out.add("checksum_write_bytes_ratio",
          normal_writes.off_bytes > 0 ? normal_writes.on_bytes / normal_writes.off_bytes : 0);
  out.add("checksum_local_writes_ratio", median(batched_off) / median(batched));
  out.add("checksum_apply_ratio", median(apply_off_rates) / apply_rate);
  out.add("store_bytes", static_cast<double>(store_bytes));
  out.add("quick_check_ms", check.value() * 1e3);
  std::printf("%s\n", out.str().c_str());
  return 0;
}

}  // namespace vs::bench
