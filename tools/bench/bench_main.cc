// visitsync-bench engine|sync|sessions|import|capi|photos|photo-store|workload [options]: the
// project's benchmarks (README.md "Benchmarks", tools/COMMANDS.md) and their workload generator
// (tools/bench/WORKLOAD.md). Last line of a bench's output: one JSON object.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <unistd.h>

#include <visitsync/photos.h>

#include "args.h"
#include "bench.h"
#include "workload_gen.h"

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

namespace {

constexpr const char* kUsage =
    "usage: visitsync-bench engine|sync|sessions [--work DIR] [--tools DIR] [--visits N]\n"
    "                       [--items N] [--writes N] [--sessions N] [--workload FILE]\n"
    "                       [--concurrency N] [--edits FILE]\n"
    "       visitsync-bench import [--work DIR] [--rows N]\n"
    "       visitsync-bench capi [--work DIR] [--writes N] [--idle-seconds N]\n"
    "       visitsync-bench photos [--work DIR] [--visits N] [--photos N] [--photo-kb K]\n"
    "                       [--kbit R] [--rtt-ms T] [--cut-kb C] [--seed S]\n"
    "       visitsync-bench photo-store [--work DIR] [--photos N] [--photo-kb K]\n"
    "       visitsync-bench workload [--visits N] [--items N] [--seed S] [--edits]\n"
    "                       [--edit-frac F] [--conflict-frac F] --out FILE\n"
    "  engine    local writes, apply_remote and raw SQLite inserts\n"
    "  sync      the workload pushed and pulled over TLS through visitsync-hub, then edits\n"
    "  sessions  --sessions devices (500) each push 5 visits to one hub and pull their\n"
    "            partner's, --concurrency (256) sessions at a time\n"
    "  import    --rows (1000000) schools and assignments generated to CSV files, then\n"
    "            imported into a fresh hub store: time and peak RSS of each import\n"
    "  capi      single answer writes through the C API (libvisitsync.so) against the C++\n"
    "            call, in turn; then an idle replicator's CPU and wake-ups\n"
    "  photos    --visits (5) of the workload and --photos (20) of --photo-kb (300) through a\n"
    "            link of --kbit (2000) each way, --rtt-ms (300), cut every ~--cut-kb (1000)\n"
    "            until every photo is on the hub (the 2G case: --kbit 64 --rtt-ms 600\n"
    "            --cut-kb 100)\n"
    "  photo-store --photos (20) of --photo-kb (300) stored chunk by chunk, each made durable,\n"
    "            as files beside the store and in one SQLite file; then read back\n"
    "  workload  writes the generated workload's visits file (with --edits: its edits file)\n"
    "            to FILE ('-': standard output); WORKLOAD.md describes the format\n"
    "The benches run on the generated workload of --visits (2000) x --items (150), seed 42,\n"
    "kept in --work DIR; --workload FILE runs them on a visits file instead (its counts come\n"
    "from the file) and --edits FILE gives the sync bench that file's edits.\n"
    "The last line a bench prints is one JSON object of the figures.\n";

int usage_error(const std::string& what) {
  std::fprintf(stderr, "visitsync-bench: error: %s (visitsync-bench --help lists the options)\n",
               what.c_str());
  return 2;
}

bool parse_int(const char* s, int& out) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || v <= 0 || v > 100'000'000) return false;
  out = static_cast<int>(v);
  return true;
}

bool parse_seed(const char* s, std::uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  if (*s < '0' || *s > '9') return false;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (*end != '\0' || errno != 0) return false;
  out = v;
  return true;
}

bool parse_fraction(const char* s, double& out) {
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  if (end == s || *end != '\0' || !(v >= 0 && v <= 1)) return false;
  out = v;
  return true;
}

// The value of option argv[i], or nullptr (and i past the end) when it has none.
const char* value_of(int argc, char** argv, int& i) { return i + 1 < argc ? argv[++i] : nullptr; }

std::string bad_value(const std::string& option, const char* v, const char* expected) {
  return std::string("bad value '") + v + "' for " + option + " (expected " + expected + ")";
}

// Parses the options of a bench; returns an error message or nothing.
std::optional<std::string> parse_bench_args(int argc, char** argv, BenchArgs& args) {
  bool counts = false;
  bool concurrency = false;
  bool rows = false;
  bool idle = false;
  bool photo_options = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = value_of(argc, argv, i);
    if (v == nullptr)
      return a.rfind("--", 0) == 0 ? a + " needs a value" : "unexpected '" + a + "'";
    const char* whole = "a whole number from 1 to 100000000";
    if (a == "--work") {
      args.work_dir = v;
    } else if (a == "--tools") {
      args.tools_dir = v;
    } else if (a == "--workload") {
      args.workload = v;
    } else if (a == "--edits") {
      args.edits = v;
    } else if (a == "--visits" || a == "--items") {
      counts = true;
      if (!parse_int(v, a == "--visits" ? args.visits : args.items)) return bad_value(a, v, whole);
    } else if (a == "--writes" || a == "--sessions") {
      if (!parse_int(v, a == "--writes" ? args.writes : args.sessions))
        return bad_value(a, v, whole);
    } else if (a == "--concurrency") {
      concurrency = true;
      if (!parse_int(v, args.concurrency)) return bad_value(a, v, whole);
    } else if (a == "--idle-seconds") {
      idle = true;
      if (!parse_int(v, args.idle_s) || args.idle_s > 3600)
        return bad_value(a, v, "a whole number from 1 to 3600");
    } else if (a == "--photos" || a == "--photo-kb" || a == "--kbit" || a == "--rtt-ms" ||
               a == "--cut-kb") {
      photo_options = true;
      int& target = a == "--photos"     ? args.photos
                    : a == "--photo-kb" ? args.photo_kb
                    : a == "--kbit"     ? args.kbit
                    : a == "--rtt-ms"   ? args.rtt_ms
                                        : args.cut_kb;
      if (!parse_int(v, target) || target > 1'000'000)
        return bad_value(a, v, "a whole number from 1 to 1000000");
      if (a == "--photo-kb" && target > static_cast<int>(kMaxPhotoBytes / 1000))
        return bad_value(a, v, "at most 33554 (32 MiB, the photo size limit)");
    } else if (a == "--seed") {
      photo_options = true;
      if (!parse_seed(v, args.seed)) return bad_value(a, v, "a whole number");
    } else if (a == "--rows") {
      rows = true;
      if (!parse_int(v, args.rows)) return bad_value(a, v, whole);
    } else {
      return "unknown option " + a;
    }
  }
  const std::string which = argv[1];
  if (counts && !args.workload.empty())
    return std::string("--visits and --items do not go with --workload: the file has its counts");
  if (!args.edits.empty() && which != "sync")
    return std::string("--edits is an option of the sync bench");
  if (concurrency && which != "sessions")
    return std::string("--concurrency is an option of the sessions bench");
  if (rows && which != "import") return std::string("--rows is an option of the import bench");
  if (idle && which != "capi") return std::string("--idle-seconds is an option of the capi bench");
  if (photo_options && which != "photos" && which != "photo-store")
    return std::string(
        "--photos, --photo-kb, --kbit, --rtt-ms, --cut-kb and --seed are options "
        "of the photos bench");
  if (which == "photos" && !args.workload.empty())
    return std::string("--workload is not an option of the photos bench");
  if (which == "sync" && !args.workload.empty() && args.edits.empty())
    return std::string("sync --workload FILE needs --edits FILE, the edits made for that workload");
  return std::nullopt;
}

Status write_output(const std::string& out, const std::string& text) {
  if (out == "-") {
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
      return Status::io("cannot write to standard output");
    return Status();
  }
  return cli::write_file(out, text);
}

}  // namespace

int run_workload_command(int argc, char** argv) {
  WorkloadSpec spec;
  EditSpec edit_spec;
  bool edits = false;
  std::string out;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--edits") {
      edits = true;
      continue;
    }
    const char* v = value_of(argc, argv, i);
    if (v == nullptr)
      return usage_error(a.rfind("--", 0) == 0 ? a + " needs a value" : "unexpected '" + a + "'");
    const char* whole = "a whole number from 1 to 100000000";
    const char* frac = "a number from 0 to 1";
    if (a == "--out") {
      out = v;
    } else if (a == "--visits" || a == "--items") {
      if (!parse_int(v, a == "--visits" ? spec.visits : spec.items))
        return usage_error(bad_value(a, v, whole));
    } else if (a == "--seed") {
      if (!parse_seed(v, spec.seed)) return usage_error(bad_value(a, v, "a whole number >= 0"));
    } else if (a == "--edit-frac" || a == "--conflict-frac") {
      if (!parse_fraction(v, a == "--edit-frac" ? edit_spec.edit_frac : edit_spec.conflict_frac))
        return usage_error(bad_value(a, v, frac));
    } else {
      return usage_error("unknown option " + a);
    }
  }
  if (out.empty()) return usage_error("workload needs --out FILE");
  if (Status s = check_spec(spec, edit_spec); !s.ok()) return usage_error(s.message());
  const std::string text =
      edits ? generate_edits_file(spec, edit_spec) : generate_visits_file(spec);
  if (Status s = write_output(out, text); !s.ok()) return fail_input(s);
  return 0;
}

}  // namespace vs::bench

int main(int argc, char** argv) {
  using namespace vs::bench;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  if (argc < 2) return usage_error("which bench?");
  const std::string which = argv[1];
  if (which == "workload") return run_workload_command(argc, argv);
  if (which != "engine" && which != "sync" && which != "sessions" && which != "import" &&
      which != "capi" && which != "photos" && which != "photo-store")
    return usage_error("unknown command '" + which + "'");
  BenchArgs args;
  args.tools_dir = VS_TOOLS_DIR;
  if (which == "photos") args.visits = 5;  // a day's visits
  args.work_dir =
      (std::filesystem::temp_directory_path() / ("visitsync-bench-" + std::to_string(getuid())))
          .string();
  if (std::optional<std::string> e = parse_bench_args(argc, argv, args)) return usage_error(*e);
  std::error_code ec;
  std::filesystem::create_directories(args.work_dir, ec);
  if (ec) {
    std::fprintf(stderr, "visitsync-bench: error: cannot create %s: %s\n", args.work_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  if (which == "engine") return run_engine_bench(args);
  if (which == "sync") return run_sync_bench(args);
  if (which == "import") return run_import_bench(args);
  if (which == "capi") return run_capi_bench(args);
  if (which == "photos") return run_photos_bench(args);
  if (which == "photo-store") return run_photo_store_bench(args);
  return run_sessions_bench(args);
}
