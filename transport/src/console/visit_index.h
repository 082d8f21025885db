// The console's list of visits: one summary row per visit, kept in memory on the store thread
// and brought up to date from the op log before each use (only the visits whose records
// changed are read again), so the visits page filters, sorts and pages 10,000 visits without
// reading them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <visitsync/hub_store.h>

namespace vs::console {

struct VisitRow {
  std::string key;  // visit/<school>/<id>
  std::string id;
  std::string school, school_name, county;
  std::string template_id;
  std::string started_at;  // ISO 8601
  std::string started_by;
  Phase phase = Phase::kDraft;
  int round = 1;
  std::size_t flags = 0;
  std::size_t answered = 0;
  std::size_t items = 0;
  std::size_t photos_missing = 0;
  std::vector<std::string> finding_items;  // items with a finding
};

class VisitIndex {
 public:
  // Reads what changed since the last call (everything the first time). On the store thread.
  Status refresh(HubStore& hub);
  const std::map<std::string, VisitRow>& rows() const { return rows_; }

 private:
  Status rebuild(HubStore& hub);
  Status reread(HubStore& hub, const std::string& key);
  Result<std::pair<std::string, std::string>> school_of(HubStore& hub, const std::string& id);

  bool built_ = false;
  std::uint64_t cursor_ = 0;  // the op log read so far
  std::map<std::string, VisitRow> rows_;
  std::map<std::string, std::pair<std::string, std::string>> schools_;  // id -> name, county
};

}  // namespace vs::console
