#include <cstdio>
#include <filesystem>
#include <string>

#include <visitsync/inspection.h>
#include <visitsync/transport/client.h>

#include "commands.h"

namespace vs::device_cli {
namespace {

constexpr const char* kTool = "visitsync";
// Reports of rows that could not be read, printed at most; the rest are counted.
constexpr std::size_t kMaxListed = 20;

std::string seq_list(const std::vector<std::uint64_t>& seqs) {
  std::string out;
  for (std::size_t i = 0; i < seqs.size() && i < kMaxListed; ++i)
    out += (i == 0 ? "" : ", ") + std::to_string(seqs[i]);
  if (seqs.size() > kMaxListed) out += " and " + std::to_string(seqs.size() - kMaxListed) + " more";
  return out;
}

void print_report(const RepairReport& r) {
  std::printf("kept %llu ops (%llu of this device's) from %llu log rows\n",
              static_cast<unsigned long long>(r.ops_kept),
              static_cast<unsigned long long>(r.own_ops_kept),
              static_cast<unsigned long long>(r.rows_kept));
  std::printf("the damaged store is kept as %s\n", r.moved_to.c_str());
  if (!r.lost.empty()) {
    std::printf("could not read %zu rows:\n", r.lost.size());
    for (std::size_t i = 0; i < r.lost.size() && i < kMaxListed; ++i)
      std::printf("  %s\n", cli::clipped(r.lost[i], 300).c_str());
    if (r.lost.size() > kMaxListed) std::printf("  ... and %zu more\n", r.lost.size() - kMaxListed);
  }
  if (!r.own_unacked_lost.empty()) {
    std::printf("lost for good: this device's ops %s, which had not reached the hub%s\n",
                seq_list(r.own_unacked_lost).c_str(),
                r.refill ? " (placeholders keep their seqs; the hub refuses them)" : "");
  }
  if (r.refill) {
    std::printf(
        "%llu of this device's ops the hub holds were lost here: the next sync brings\n"
        "them back, with everything else in this device's scope\n",
        static_cast<unsigned long long>(r.own_acked_lost));
  } else if (!r.lost.empty()) {
    std::printf("this device works alone: what could not be read cannot be fetched again\n");
  }
}

}  // namespace

int cmd_repair(const cli::Args& a) {
  Result<std::string> dir = a.need("data");
  if (!dir.ok()) return cli::fail(kTool, dir.status());
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return cli::fail(kTool, s);
  Result<std::string> store = Inspection::store_file(dir.value());
  if (!store.ok()) return cli::fail(kTool, store.status());
  // An enrolled device's folder holds its enrollment: it refills from the hub.
  std::error_code ec;
  const bool enrolled =
      std::filesystem::exists(std::filesystem::path(dir.value()) / kEnrollmentFile, ec);
  Result<RepairReport> r = repair_store(store.value(), enrolled);
  if (!r.ok()) return cli::fail(kTool, r.status());
  print_report(r.value());
  return 0;
}

}  // namespace vs::device_cli
