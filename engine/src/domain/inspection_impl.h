// Inspection::Impl: shared by the domain's .cc files (reference, visits, export).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <visitsync/engine.h>
#include <visitsync/inspection.h>

#include "domain/model.h"

namespace vs {

struct Inspection::Impl {
  std::string data_dir;
  std::unique_ptr<Engine> engine;
  Clock* clock = nullptr;
  std::string mode;
  std::string actor_id;
  Role role = Role::kInspector;
  std::map<std::string, std::shared_ptr<const Template>> templates;  // by record key

  Date today() const;
  std::string now_iso() const;

  Result<std::shared_ptr<const Template>> load_template(std::string_view id, int version);
  // A load_template() failure that leaves the rest usable: the template has not arrived, or it
  // is stored in a form this build cannot read (a newer format, say).
  static bool template_unavailable(const Status& s) {
    return s.code() == Code::kNotFound || s.code() == Code::kInvalidInput ||
           s.code() == Code::kCorrupt;
  }
  // The newest stored version of each template id.
  Result<std::map<std::string, int>> newest_template_versions();
  // The record key of a visit from its id or a unique prefix of it.
  Result<std::string> visit_key(std::string_view id_or_prefix);
  // The full view of a visit record.
  Result<VisitView> build_view(const std::string& key);
  // Builds every visit's view in key order and hands each to `fn`, one at a time (a device may
  // hold thousands of visits; their views together would take hundreds of megabytes).
  Status each_visit(const std::function<Status(VisitView&)>& fn);
  // visit_key() then build_view(); the record key goes to `key` when given.
  Result<VisitView> find_visit(std::string_view id_or_prefix, std::string* key = nullptr);
  // Loads a visit, refusing one this actor may not write answers to.
  Result<VisitView> visit_for_answers(std::string_view visit);
  Status check_assigned(std::string_view school_id);
  // A photo item with max_kb: each file of `value` held here is within it.
  Status check_photo_sizes(const Item& spec, const Value& value);
  Status check_reviewer(const VisitView& v);
  // The text of a field, "" if absent.
  static std::string text_of(const RecordView& r, std::string_view field);
};

// Findings of one answer under its item's rule.
void findings_of(const Item& item, const Value& v, std::vector<Finding>& out);

}  // namespace vs
