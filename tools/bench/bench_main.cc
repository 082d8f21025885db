// visitsync-bench engine|sync|sessions [options]: the project's benchmarks (DESIGN.md §
// Performance). Last line of output: one JSON object.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "bench.h"

namespace vs::bench {

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }

void JsonOut::key(const std::string& k) {
  if (!body_.empty()) body_ += ",";
  body_ += "\"" + k + "\":";
}

void JsonOut::add(const std::string& k, double v) {
  key(k);
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  }
  body_ += buf;
}

void JsonOut::add(const std::string& k, const std::string& v) {
  key(k);
  body_ += "\"" + v + "\"";
}

}  // namespace vs::bench

namespace {

int usage() {
  std::fprintf(
      stderr,
      "usage: visitsync-bench engine|sync|sessions [--work DIR] [--tools DIR] [--generator FILE]\n"
      "                       [--visits N] [--items N] [--writes N] [--sessions N]\n"
      "  engine    local writes, apply_remote and raw SQLite inserts\n"
      "  sync      the workload pushed and pulled over TLS through visitsync-hub, then edits\n"
      "  sessions  --sessions devices (500) push 5 visits each at once to one hub\n"
      "Options: --work DIR (workload and stores), --tools DIR (visitsync-hub's folder).\n"
      "The last line printed is one JSON object of the figures.\n");
  return 2;
}

bool parse_int(const char* s, int& out) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v <= 0 || v > 100'000'000) return false;
  out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vs::bench;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) return usage();
  const std::string which = argv[1];
  BenchArgs args;
  args.generator = VS_SOURCE_DIR "/../shared/workload/gen_workload.py";
  args.tools_dir = VS_TOOLS_DIR;
  args.work_dir =
      (std::filesystem::temp_directory_path() / ("visitsync-bench-" + std::to_string(getuid())))
          .string();
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--work")
      args.work_dir = v;
    else if (a == "--generator")
      args.generator = v;
    else if (a == "--tools")
      args.tools_dir = v;
    else if (a == "--visits")
      ok = parse_int(v, args.visits);
    else if (a == "--items")
      ok = parse_int(v, args.items);
    else if (a == "--writes")
      ok = parse_int(v, args.writes);
    else if (a == "--sessions")
      ok = parse_int(v, args.sessions);
    else
      ok = false;
    if (!ok) {
      std::fprintf(stderr, "visitsync-bench: error: bad option %s %s\n", a.c_str(), v);
      return 2;
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(args.work_dir, ec);
  if (ec) {
    std::fprintf(stderr, "visitsync-bench: error: cannot create %s: %s\n", args.work_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  if (which == "engine") return run_engine_bench(args);
  if (which == "sync") return run_sync_bench(args);
  if (which == "sessions") return run_sessions_bench(args);
  std::fprintf(stderr, "visitsync-bench: error: unknown bench '%s'\n", which.c_str());
  return usage();
}
