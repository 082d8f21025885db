// Fixtures shared by every test binary: temporary folders, a manual clock, the property seed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <visitsync/engine.h>
#include <visitsync/inspection.h>

namespace vs::test {

// A fresh folder under the system's temp dir, removed with its content unless VS_KEEP_TEMP=1.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A clock the test moves by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms = 1795000000000) : now_(start_ms) {}
  std::int64_t now_ms() override { return now_; }
  void set(std::int64_t ms) { now_ = ms; }
  void advance(std::int64_t ms) { now_ += ms; }

 private:
  std::int64_t now_;
};

inline constexpr std::int64_t kYearMs = 365LL * 24 * 3600 * 1000;

// The seed of property tests: VS_SEED if set, otherwise random; printed once per process.
std::uint64_t seed();

// A bound on property-test rounds: `normal`, or VS_PROPERTY_ROUNDS when set (to run longer).
int property_rounds(int normal);

// The folders of the project's sample deployment (schema/sample: schools, inspectors and
// assignments as CSV, made by `visitsync-admin sample`) and of its templates.
std::string sample_dir();
std::string templates_dir();
// A whole file's content; fails the test if it cannot be read.
std::string slurp(const std::string& path);
// Writes `bytes` as the whole file; fails the test if it cannot be written.
void write_file(const std::string& path, const std::string& bytes);
// 2026-11-23 12:00 UTC, after the sample's assignments begin (2026-09-01; they have no end).
inline constexpr std::int64_t kToday = 1795435200000;

// Answers every required item of a school-conditions visit (a test fails if one is refused).
void answer_required(Inspection& in, const std::string& visit_id);

// `n` bytes that a photo store takes for a JPEG (its magic, then bytes drawn from `seed`):
// a photo that does not compress, as a real one does not.
std::string fake_jpeg(std::size_t n, std::uint64_t seed);

// Opens a store in `dir` for device `device` with `clock`, failing the test on error.
std::unique_ptr<Engine> open_engine(const TempDir& dir, const std::string& device, Clock* clock,
                                    const std::string& file = "");

}  // namespace vs::test
