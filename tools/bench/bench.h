// visitsync-bench: shared pieces of the benchmarks. Each bench prints progress on stderr and, as
// the last line on stdout, one JSON object of its figures.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <visitsync/status.h>

namespace vs::bench {

struct BenchArgs {
  std::string work_dir;   // generated workload files and stores
  std::string tools_dir;  // where visitsync-hub is
  std::string workload;   // --workload: a visits file to run on instead of the generated one
  std::string edits;      // --edits: its edits file (the sync bench)
  int visits = 2000;      // of the generated workload
  int items = 150;
  int writes = 2000;      // single local writes timed by the engine bench
  int sessions = 500;     // sessions of the sessions bench
  int concurrency = 256;  // of those, in flight at once
  int rows = 1'000'000;   // schools (and assignments) of the import bench
  int idle_s = 20;        // how long the capi bench watches an idle replicator
  // The photos bench: photos and their size, the link (kbit/s each way, round trip), a cut
  // every ~cut_kb, and the seed of the photo bytes and the cut points.
  int photos = 20;
  int photo_kb = 300;
  int kbit = 2000;
  int rtt_ms = 300;
  int cut_kb = 1000;
  std::uint64_t seed = 1;
};

int run_engine_bench(const BenchArgs& args);
int run_sync_bench(const BenchArgs& args);
int run_sessions_bench(const BenchArgs& args);
int run_import_bench(const BenchArgs& args);
int run_capi_bench(const BenchArgs& args);
int run_photos_bench(const BenchArgs& args);
int run_photo_store_bench(const BenchArgs& args);
// visitsync-bench workload ...: writes a generated workload file.
int run_workload_command(int argc, char** argv);

double median(std::vector<double> v);
double percentile(std::vector<double> v, double q);

inline void note(const std::string& s) { std::fprintf(stderr, "visitsync-bench: %s\n", s.c_str()); }
inline int fail(const Status& s) {
  std::fprintf(stderr, "visitsync-bench: error: %s\n", s.message().c_str());
  return 1;
}
// A workload or edits file that cannot be used: exit 2 (bad input), other failures exit 1.
inline int fail_input(const Status& s) {
  std::fprintf(stderr, "visitsync-bench: error: %s\n", s.message().c_str());
  return s.code() == Code::kInvalidInput ? 2 : 1;
}

// A flat JSON object of numbers and strings, keys in insertion order.
class JsonOut {
 public:
  void add(const std::string& key, double v);
  void add(const std::string& key, int v) { add(key, static_cast<double>(v)); }
  void add(const std::string& key, const char* v) { add(key, std::string(v)); }
  void add(const std::string& key, const std::string& v);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(const std::string& k);
  std::string body_;
};

}  // namespace vs::bench
