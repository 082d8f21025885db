// visitsync-bench: what the workload generator holds in memory (workload_gen.cc makes the
// visits, workload_gen_edits.cc the edits on them). Private to the generator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rng.h"
#include "workload_catalogue.h"
#include "workload_gen.h"

namespace vs::bench::gen {

using cli::Rng;

using ojson = nlohmann::ordered_json;  // keys stay in the order written

struct School {
  std::int64_t pupils = 0;
  std::int64_t classes = 0;
  std::int64_t buildings = 0;
  bool boarding = false;
  std::int64_t lat_micro = 0;  // the school's position, in millionths of a degree
  std::int64_t lon_micro = 0;
};

struct Visit {
  std::string id;
  std::size_t school = 0;
  std::size_t inspector = 0;
  std::int32_t day = 0;        // days since 1970-01-01
  std::vector<ojson> answers;  // one per item, in checklist order
};

struct Generated {
  std::vector<CatalogueItem> items;
  std::vector<School> schools;
  std::size_t inspectors = 0;
  std::vector<Visit> visits;
  std::string file;  // the visits file, whole
};

// The visits of `spec` and their file.
Generated generate(const WorkloadSpec& spec);

std::string inspector_id(std::size_t i);              // "I0001", ...
std::string device_id(std::size_t inspector, int n);  // "D-I0001-1": inspector's nth device
// "2026-10-22T09:18:42+08:00" for a day and the seconds since its midnight (local time).
std::string local_time(std::int32_t day, std::int64_t seconds);

// A note of at most max_chars code points; empty when `may_be_empty` and about a third of the
// time.
std::string note(Rng& rng, int max_chars, bool may_be_empty = true);
// A GPS fix near the school, accuracy acc_lo..acc_hi metres.
ojson fix(Rng& rng, const School& school, int acc_lo, int acc_hi);
// The number of code points of UTF-8 text, and its first n code points.
std::size_t code_points(const std::string& s);
std::string first_code_points(const std::string& s, std::size_t n);

}  // namespace vs::bench::gen
