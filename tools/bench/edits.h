// The edits file of a workload (WORKLOAD.md § The edits file), read and checked against the
// visits file it was made for.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <visitsync/status.h>
#include <visitsync/types.h>

#include "workload.h"

namespace vs::bench {

struct WorkloadEdit {
  bool primary = false;   // role "primary" (the visit's own device), else "second"
  std::size_t visit = 0;  // index into Workload::visits
  std::size_t item = 0;   // index into Workload::items
  Value prev;             // the visit's answer the edit saw
  Value value;            // what the edit writes
};

// Reads and checks an edits file made for `w`: its header names w's file by SHA-256 and counts
// the edits; every edit names a visit and an item of w, has prev equal to the visit's answer,
// a value of the item's type, and its device's next seq. Errors are kInvalidInput
// "FILE:LINE: what is wrong".
Result<std::vector<WorkloadEdit>> load_edits(const std::string& path, const Workload& w);

}  // namespace vs::bench
