// visitsync-bench: the project's own workload generator. It writes a visits file and an edits
// file in the format of WORKLOAD.md, deterministically: the same arguments give the same bytes
// on every machine (integer arithmetic on a PRNG of its own, tools/cli/rng.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <visitsync/status.h>

namespace vs::bench {

inline constexpr const char* kGeneratorName = "visitsync-bench";

struct WorkloadSpec {
  int visits = 2000;
  int items = 150;
  std::uint64_t seed = 42;
};

struct EditSpec {
  double edit_frac = 0.10;      // share of all answers the second device edits
  double conflict_frac = 0.02;  // share of all answers the primary device edits concurrently
};

// kInvalidInput unless visits and items are at least 1, visits x items is at most 20,000,000
// answers, and 0 <= conflict_frac <= edit_frac <= 1.
Status check_spec(const WorkloadSpec& spec, const EditSpec& edits = {});

// The whole visits file of `spec`: the checklist line, then one line per visit.
std::string generate_visits_file(const WorkloadSpec& spec);
// The whole edits file of `spec` and `edits`. Its base visits are generated again in memory;
// the header names their file by its SHA-256.
std::string generate_edits_file(const WorkloadSpec& spec, const EditSpec& edits);

}  // namespace vs::bench
