// A deterministic reference data set (schools, inspectors, assignments) as the three CSV files
// `visitsync-admin import` takes: the demo's and the tests' deployment (schema/sample/) and the
// larger sets of benchmarks and soak runs. The same spec gives the same bytes on every machine.
#pragma once

#include <cstdint>
#include <string>

#include <visitsync/status.h>
#include <visitsync/types.h>

namespace vs::admin {

struct SampleSpec {
  std::int64_t schools = 60;     // 1 to 99,999
  std::int64_t inspectors = 24;  // 1 to 9,999, at least as many as counties
  std::int64_t counties = 10;    // 1 to 1,000
  std::uint64_t seed = 1;
  std::string from = "2026-09-01";  // every assignment starts on this day and has no end
};

struct SampleFiles {
  std::string schools;      // schools.csv
  std::string inspectors;   // inspectors.csv
  std::string assignments;  // assignments.csv
};

// The layout, chosen so that tests and the demo can rely on who works where:
// - school i (S00001, ...) and inspector j (I0001, ...) are in county (i - 1) mod counties and
//   (j - 1) mod counties: the county's schools and people are every counties-th id;
// - the first inspector of each county (I0001 ... I<counties>) is its supervisor;
// - each school is assigned to two of its county's other inspectors (one where the county has
//   one; none where it has none), taken in turn: the k-th school of a county goes to its field
//   inspectors k and k + 1 (mod their number);
// - names, levels, townships, sizes and locations are drawn from the seed.
// Refuses a spec out of range (kInvalidInput naming the option).
Result<SampleFiles> make_sample(const SampleSpec& spec);

}  // namespace vs::admin
