// The benchmark workload (WORKLOAD.md) as engine values and ops: a visits file read and checked
// line by line, made by the project's generator (workload_gen.h) unless the bench is given one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <visitsync/checklist.h>
#include <visitsync/status.h>
#include <visitsync/types.h>

#include "workload_gen.h"

namespace vs::bench {

struct BenchArgs;

struct WorkloadItem {
  std::string key;
  std::string type;
  Policy policy = Policy::kLww;
  std::vector<std::string> options;
  std::string json;  // the item as the file describes it
  Item checked;      // the item as a template holds it: answers are checked against it
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
  std::string path;
  std::string sha256;  // of the whole file
  std::string template_id;
  std::vector<WorkloadItem> items;
  std::vector<WorkloadVisit> visits;
};

// The generated file of `spec` in `dir` (with `edits`: its edits file, default fractions),
// written by the generator unless it is there already. Returns its path.
Result<std::string> generated_file(const std::string& dir, const WorkloadSpec& spec, bool edits);

// Reads and checks a visits file: line 1 the checklist, then one visit per line. Errors are
// kInvalidInput "FILE:LINE: what is wrong".
Result<Workload> load_visits(const std::string& path);
// The bench's workload: --workload FILE, or the generated one of --visits, --items, seed 42.
Result<Workload> bench_workload(const BenchArgs& args);

// The workload's checklist as a template of one section.
std::string template_json(const Workload& w);

// The record key the benches use for a visit.
std::string visit_record(const WorkloadVisit& v);

// Every answer of every visit as ops from the visit's device, seqs counting per device.
std::vector<Op> visits_as_ops(const Workload& w);

}  // namespace vs::bench
