// The shared benchmark workload (../shared/workload/gen_workload.py) as engine ops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <visitsync/status.h>
#include <visitsync/types.h>

namespace vs::bench {

struct WorkloadItem {
  std::string key;
  std::string type;
  Policy policy = Policy::kLww;
  std::vector<std::string> options;
  std::string json;  // the item as the file describes it
};

struct WorkloadVisit {
  std::string id;
  std::string line;  // the visit as the file has it (compact JSON)
  std::string school_id;
  std::string device_id;
  std::int64_t started_ms = 0;
  std::vector<Value> answers;  // one per item, in item order
};

struct Workload {
  std::string template_id;
  std::vector<WorkloadItem> items;
  std::vector<WorkloadVisit> visits;
};

// The workload file of (visits, items, seed) in `dir` (with `edits`: its edits file), made by
// the generator (python3) unless it exists already. Returns its path.
Result<std::string> workload_file(const std::string& generator, const std::string& dir, int visits,
                                  int items, std::uint64_t seed, bool edits);
// Reads a visits file: line 1 the checklist, then one visit per line.
Result<Workload> load_visits(const std::string& path);
// The engine value of one answer of an item (a JSON value from the file).
Result<Value> answer_value(const WorkloadItem& item, const std::string& json_value);

// The record key the benches use for a visit.
std::string visit_record(const WorkloadVisit& v);

// Every answer of every visit as ops from the visit's device, seqs counting per device.
std::vector<Op> visits_as_ops(const Workload& w);

}  // namespace vs::bench
