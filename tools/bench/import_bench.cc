// visitsync-bench import: reference data of --rows schools and as many assignments (and one
// inspector for every 100 schools) generated to CSV files, then imported into a fresh hub
// store as `visitsync-admin import` does. Each import runs in a child process of its own, so
// that its peak RSS (getrusage's ru_maxrss) is the import's alone; the generation is timed
// apart and is not part of an import's time.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <visitsync/inspection.h>

#include "bench.h"

namespace vs::bench {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Writes a CSV file row by row through a 1 MiB buffer: the generator holds no more than that.
class CsvOut {
 public:
  explicit CsvOut(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "wb")) {}
  CsvOut(const CsvOut&) = delete;
  CsvOut& operator=(const CsvOut&) = delete;
  CsvOut(CsvOut&&) = delete;
  CsvOut& operator=(CsvOut&&) = delete;
  ~CsvOut() {
    if (file_ != nullptr) std::fclose(file_);
  }
  std::string& buffer() { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= (1u << 20)) flush();
  }
  Status close() {
    flush();
    const bool ok = file_ != nullptr && ok_ && std::fclose(file_) == 0;
    file_ = nullptr;
    return ok ? Status() : Status::io("cannot write " + path_);
  }

 private:
  void flush() {
    if (file_ != nullptr && std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size())
      ok_ = false;
    buf_.clear();
  }
  std::string path_;
  std::FILE* file_;
  std::string buf_;
  bool ok_ = true;
};

std::string padded(std::uint64_t n, int width) {
  std::string s = std::to_string(n);
  return std::string(s.size() < static_cast<std::size_t>(width) ? width - s.size() : 0, '0') + s;
}

// Rows shaped like visitsync-admin sample's (names in Chinese, about as long), without its
// randomness: the row of school i is a function of i.
Status generate(const std::string& dir, std::uint64_t rows) {
  const std::uint64_t inspectors = rows / 100 + 1;
  CsvOut schools(dir + "/schools.csv");
  schools.buffer() =
      "school_id,name,city,county,township,level,boarding,students,teachers,lat,lon\n";
  const char* const levels[] = {"primary", "junior", "senior", "teaching_point"};
  for (std::uint64_t i = 1; i <= rows; ++i) {
    const std::string county = "县" + std::to_string(i % 1000);
    std::string& b = schools.buffer();
    b += "S" + padded(i, 7) + ",代县枣林镇第" + std::to_string(i) + "中学,忻州市," + county +
         ",枣林镇," + levels[i % 4] + "," + std::to_string(i % 2) + "," +
         std::to_string(100 + i % 900) + "," + std::to_string(5 + i % 60) + ",3" +
         std::to_string(5 + i % 5) + "." + padded(i % 100000, 5) + ",11" + std::to_string(i % 10) +
         "." + padded((i * 7) % 100000, 5) + "\n";
    schools.maybe_flush();
  }
  CsvOut people(dir + "/inspectors.csv");
  people.buffer() = "inspector_id,name,role,county\n";
  for (std::uint64_t j = 1; j <= inspectors; ++j) {
    people.buffer() += "I" + padded(j, 6) + ",王伟" + std::to_string(j) + ",inspector,县" +
                       std::to_string(j % 1000) + "\n";
    people.maybe_flush();
  }
  CsvOut assignments(dir + "/assignments.csv");
  assignments.buffer() = "inspector_id,school_id,from,until\n";
  for (std::uint64_t i = 1; i <= rows; ++i) {
    assignments.buffer() += "I" + padded(i % inspectors + 1, 6) + ",S" + padded(i, 7) +
                            (i % 3 == 0 ? ",2026-09-01,2027-07-31\n" : ",2026-09-01,\n");
    assignments.maybe_flush();
  }
  for (CsvOut* f : {&schools, &people, &assignments}) {
    if (Status s = f->close(); !s.ok()) return s;
  }
  return Status();
}

// What a child reports through its pipe.
struct ChildReport {
  double seconds = 0;
  std::uint64_t rows = 0;
  std::uint64_t created = 0;
  int code = 0;  // a Code; 0 = ok
  char message[200] = {};
};

ChildReport import_in_child(const std::string& hub, ReferenceKind kind, const std::string& path) {
  ChildReport out;
  Result<std::unique_ptr<Inspection>> in = Inspection::open(hub);
  Result<ImportReport> r = in.status();
  const auto t0 = Clock::now();
  if (in.ok()) r = in.value()->import_reference_file(kind, path);
  out.seconds = seconds_since(t0);
  if (r.ok()) {
    out.rows = r->rows;
    out.created = r->created;
  } else {
    out.code = static_cast<int>(r.status().code());
    std::snprintf(out.message, sizeof out.message, "%s", r.status().message().c_str());
  }
  return out;
}

struct Measured {
  ChildReport report;
  double peak_rss_mb = 0;
};

// Runs one import in a child process; its peak RSS comes from wait4.
Result<Measured> measure(const std::string& hub, ReferenceKind kind, const std::string& path) {
  int fds[2];
  if (::pipe(fds) != 0) return Status::io("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) return Status::io("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    const ChildReport r = import_in_child(hub, kind, path);
    const bool sent = ::write(fds[1], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
    ::_exit(sent ? 0 : 1);
  }
  ::close(fds[1]);
  Measured m;
  const ssize_t got = ::read(fds[0], &m.report, sizeof m.report);
  ::close(fds[0]);
  int status = 0;
  struct rusage ru {};
  if (::wait4(pid, &status, 0, &ru) != pid) return Status::internal("wait4 failed");
  if (got != static_cast<ssize_t>(sizeof m.report) || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0)
    return Status::internal("the import's child process failed (" + path + ")");
  if (m.report.code != 0) return Status::internal(path + ": " + m.report.message);
  m.peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;  // KiB on Linux
  return m;
}

double round2(double v) { return static_cast<double>(std::lround(v * 100)) / 100; }

}  // namespace

int run_import_bench(const BenchArgs& args) {
  const std::string dir = args.work_dir + "/import";
  const std::string hub = dir + "/hub";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  const auto rows = static_cast<std::uint64_t>(args.rows);
  note("generating " + std::to_string(rows) + " schools and assignments in " + dir);
  const auto t0 = Clock::now();
  if (Status s = generate(dir, rows); !s.ok()) return fail(s);
  const double generate_s = seconds_since(t0);
  {
    Result<std::unique_ptr<Inspection>> in =
        Inspection::create(hub, "bench-hub", "hub", "admin", Role::kAdmin);
    if (!in.ok()) return fail(in.status());
  }
  JsonOut out;
  out.add("bench", "import");
  out.add("rows", static_cast<double>(rows));
  out.add("generate_s", round2(generate_s));
  for (const char* kind : {"schools", "inspectors", "assignments"}) {
    const std::string path = dir + "/" + kind + ".csv";
    note("importing " + path);
    Result<Measured> m = measure(hub, *parse_reference_kind(kind), path);
    if (!m.ok()) return fail(m.status());
    const std::string k = kind;
    out.add(k + "_rows", static_cast<double>(m->report.rows));
    out.add(k + "_bytes", static_cast<double>(fs::file_size(path, ec)));
    out.add(k + "_import_s", round2(m->report.seconds));
    out.add(k + "_rows_per_s", static_cast<double>(static_cast<long long>(
                                   static_cast<double>(m->report.rows) / m->report.seconds)));
    out.add(k + "_peak_rss_mb", round2(m->peak_rss_mb));
    if (m->report.created != m->report.rows)
      return fail(Status::internal(path + ": not every row was new"));
  }
  out.add("store_mb", round2(static_cast<double>(fs::file_size(hub + "/visitsync.db", ec)) / 1e6));
  fs::remove_all(dir, ec);
  std::printf("%s\n", out.str().c_str());
  return 0;
}

}  // namespace vs::bench
