// visitsync-bench: shared pieces of the benchmarks. Each bench prints progress on stderr and, as
// the last line on stdout, one JSON object of its figures.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <visitsync/status.h>

namespace vs::bench {

struct BenchArgs {
  std::string work_dir;   // workload files and stores
  std::string generator;  // ../shared/workload/gen_workload.py
  std::string tools_dir;  // where visitsync-hub is
  int visits = 2000;
  int items = 150;
  int writes = 2000;   // single local writes timed by the engine bench
  int sessions = 500;  // concurrent sessions of the sessions bench
};

int run_engine_bench(const BenchArgs& args);
int run_sync_bench(const BenchArgs& args);
int run_sessions_bench(const BenchArgs& args);

double median(std::vector<double> v);
double percentile(std::vector<double> v, double q);

inline void note(const std::string& s) { std::fprintf(stderr, "visitsync-bench: %s\n", s.c_str()); }
inline int fail(const Status& s) {
  std::fprintf(stderr, "visitsync-bench: error: %s\n", s.message().c_str());
  return 1;
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
