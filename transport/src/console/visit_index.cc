#include "console/visit_index.h"

#include <set>

namespace vs::console {
namespace {

constexpr std::size_t kLogStep = 20'000;

VisitRow row_of(const std::string& key, const VisitView& v) {
  VisitRow r;
  r.key = key;
  r.id = v.id;
  r.school = v.school_id;
  r.template_id = v.template_id;
  r.started_at = v.started_at;
  r.started_by = v.started_by;
  r.phase = v.status.phase;
  r.round = v.status.round;
  r.flags = v.flags.size();
  r.items = v.answers.size();
  for (const Answer& a : v.answers) r.answered += a.answered() ? 1 : 0;
  r.photos_missing = v.photos_missing.size();
  for (const Finding& f : v.findings) r.finding_items.push_back(f.item);
  return r;
}

}  // namespace

Result<std::pair<std::string, std::string>> VisitIndex::school_of(HubStore& hub,
                                                                  const std::string& id) {
  if (auto it = schools_.find(id); it != schools_.end()) return it->second;
  Result<School> s = hub.inspection().school(id);
  if (!s.ok() && s.status().code() != Code::kNotFound) return s.status();
  std::pair<std::string, std::string> nc =
      s.ok() ? std::make_pair(s->name, s->county) : std::make_pair(std::string(), std::string());
  schools_[id] = nc;
  return nc;
}

Status VisitIndex::reread(HubStore& hub, const std::string& key) {
  Result<VisitView> v = hub.inspection().visit(key);
  if (v.status().code() == Code::kNotFound) {
    rows_.erase(key);
    return Status();
  }
  if (!v.ok()) return v.status();
  VisitRow row = row_of(key, v.value());
  Result<std::pair<std::string, std::string>> s = school_of(hub, row.school);
  if (!s.ok()) return s.status();
  row.school_name = s->first;
  row.county = s->second;
  rows_[key] = std::move(row);
  return Status();
}

Status VisitIndex::rebuild(HubStore& hub) {
  rows_.clear();
  schools_.clear();
  Result<std::vector<std::string>> keys = hub.engine().records_with_prefix("visit/");
  if (!keys.ok()) return keys.status();
  for (const std::string& key : keys.value()) {
    if (Status s = reread(hub, key); !s.ok()) return s;
  }
  built_ = true;
  return Status();
}

Status VisitIndex::refresh(HubStore& hub) {
  std::set<std::string> changed;
  bool everything = !built_;
  for (;;) {
    Result<LogSlice> slice = hub.engine().log_after(cursor_, kLogStep);
    if (!slice.ok()) return slice.status();
    if (slice->ops.empty()) break;
    cursor_ = slice->next_cursor;
    if (everything) continue;
    for (const Op& op : slice->ops) {
      if (op.record.rfind("visit/", 0) == 0) {
        changed.insert(op.record);
      } else if (op.record.rfind("school/", 0) == 0 || op.record.rfind("template/", 0) == 0) {
        everything = true;  // a school's county or a template changes many rows: rare
      }
    }
  }
  if (everything) return rebuild(hub);
  for (const std::string& key : changed) {
    if (Status s = reread(hub, key); !s.ok()) return s;
  }
  return Status();
}

}  // namespace vs::console
