// Exports: CSV (one row per visit, one column per item in template order, UTF-8 with a BOM so
// that spreadsheet programs read Chinese correctly), JSON Lines, and a summary per school and
// per county.
#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include <visitsync/inspection.h>

#include "domain/csv.h"
#include "domain/inspection_impl.h"

namespace vs {
namespace {

using domain::append_csv_cell;
using nlohmann::json;

constexpr const char* kBom = "\xEF\xBB\xBF";
constexpr const char* kEol = "\r\n";

json value_json(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      return nullptr;
    case Value::Kind::kBool:
      return v.as_bool();
    case Value::Kind::kInteger:
      return v.as_integer();
    case Value::Kind::kDecimal:
      return v.as_decimal();
    case Value::Kind::kText:
      return v.as_text();
    case Value::Kind::kDate:
      return format_date(v.as_date());
    case Value::Kind::kSet:
      return v.as_set();
    case Value::Kind::kChoice:
      return v.as_choice().key;
    case Value::Kind::kGps: {
      json p = {{"lat", v.as_gps().lat}, {"lon", v.as_gps().lon}};
      if (v.as_gps().accuracy_m) p["acc_m"] = *v.as_gps().accuracy_m;
      return p;
    }
    case Value::Kind::kAttachment: {
      std::string s = v.to_string();
      return s;
    }
  }
  return nullptr;
}

std::string iso(Hlc h) { return format_hlc(h).substr(0, 19) + "Z"; }

json versions_json(const std::vector<Version>& versions) {
  json out = json::array();
  for (const Version& v : versions) {
    out.push_back({{"device", v.op.device},
                   {"seq", v.op.seq},
                   {"at", iso(v.hlc)},
                   {"value", value_json(v.value)}});
  }
  return out;
}

json answer_json(const Answer& a) {
  if (a.item->merge == Policy::kAppend) {
    json notes = json::array();
    for (const Version& v : a.versions) {
      notes.push_back({{"text", value_json(v.value)}, {"at", iso(v.hlc)}, {"device", v.op.device}});
    }
    return notes;
  }
  return value_json(a.value);
}

// Free text a spreadsheet would take for a formula (=, +, -, @ or a tab first) gets a leading
// apostrophe, which spreadsheets show as text: an inspector's note cannot run as a formula on
// a supervisor's computer. JSON Lines keeps the text as entered.
std::string inert_text(std::string text) {
  if (!text.empty() && std::string_view("=+-@\t\r").find(text[0]) != std::string_view::npos)
    text.insert(0, "'");
  return text;
}

// The CSV cell of an answer: notes one per line, everything else as the command line writes it.
std::string answer_cell(const Answer& a) {
  if (a.item->merge != Policy::kAppend) {
    std::string cell = format_item_value(*a.item, a.value);
    return a.item->type == ItemType::kText ? inert_text(std::move(cell)) : cell;
  }
  std::string out;
  for (const Version& v : a.versions) {
    if (!out.empty()) out += "\n";
    out += v.value.to_string();
  }
  return inert_text(std::move(out));
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

void csv_row(std::string& out, const std::vector<std::string>& cells) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_csv_cell(out, cells[i]);
  }
  out += kEol;
}

}  // namespace

std::string Inspection::to_json(const VisitView& v) {
  json j = {{"visit_id", v.id},
            {"school_id", v.school_id},
            {"template_id", v.template_id},
            {"template_version", v.template_version},
            {"status", std::string(phase_name(v.status.phase))},
            {"round", v.status.round},
            {"started_by", v.started_by},
            {"started_at", v.started_at},
            {"inspectors", v.inspectors}};
  json answers = json::object();
  for (const Answer& a : v.answers) answers[a.item->key] = answer_json(a);
  j["answers"] = answers;
  json findings = json::array();
  for (const Finding& f : v.findings)
    findings.push_back({{"item", f.item}, {"level", f.level}, {"message", f.message}});
  j["findings"] = findings;
  json flags = json::array();
  for (const Flag& f : v.flags) {
    flags.push_back(
        {{"item", f.item}, {"reason", f.reason}, {"versions", versions_json(f.versions)}});
  }
  j["conflicts"] = flags;
  json reviews = json::array();
  for (const Review& r : v.reviews) {
    reviews.push_back({{"by", r.by},
                       {"decision", r.decision},
                       {"comment", r.comment},
                       {"round", r.round},
                       {"at", iso(r.at)}});
  }
  j["reviews"] = reviews;
  j["missing_required"] = v.missing_required;
  j["photos_missing"] = v.photos_missing;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> Inspection::export_visits(ExportFormat format, std::string_view template_id,
                                              const SchoolFilter& keep_school) {
  std::vector<VisitView> chosen;  // only these views are kept
  Status built = impl_->each_visit([&](VisitView& v) {
    if ((template_id.empty() || v.template_id == template_id) &&
        (!keep_school || keep_school(v.school_id)))
      chosen.push_back(std::move(v));
    return Status();
  });
  if (!built.ok()) return built;
  std::sort(chosen.begin(), chosen.end(), [](const VisitView& a, const VisitView& b) {
    return a.started_at != b.started_at ? a.started_at < b.started_at : a.id < b.id;
  });
  // The visits' schools; one not held here (not synced yet) has an empty name, but a school
  // that cannot be read fails the export.
  std::map<std::string, School> schools;
  for (const VisitView& v : chosen) {
    if (schools.count(v.school_id) != 0) continue;
    Result<School> s = school(v.school_id);
    if (!s.ok() && s.status().code() != Code::kNotFound) return s.status();
    schools.emplace(
        v.school_id,
        s.ok() ? s.value() : School{v.school_id, "", "", "", "", "", false, 0, 0, std::nullopt});
  }
  auto school_of = [&](const std::string& id) -> const School& { return schools.at(id); };

  std::string out;
  if (format == ExportFormat::kJsonl) {
    for (const VisitView& v : chosen) out += to_json(v) + "\n";
    return out;
  }
  out = kBom;
  if (format == ExportFormat::kSummary) {
    struct Tally {
      std::string name;
      std::size_t visits = 0, submitted = 0, approved = 0, findings = 0, flags = 0;
    };
    std::map<std::string, Tally> by_school, by_county;
    for (const VisitView& v : chosen) {
      const School& s = school_of(v.school_id);
      for (Tally* t : {&by_school[v.school_id], &by_county[s.county]}) {
        ++t->visits;
        t->submitted += v.status.phase == Phase::kSubmitted ? 1 : 0;
        t->approved += v.status.phase == Phase::kApproved ? 1 : 0;
        t->findings += v.findings.size();
        t->flags += v.flags.size();
      }
      by_school[v.school_id].name = s.name;
      by_county[s.county].name = s.county;
    }
    csv_row(out, {"level", "id", "name", "visits", "submitted", "approved", "findings",
                  "open_conflicts"});
    for (const auto& [level, table] :
         {std::pair{"school", &by_school}, std::pair{"county", &by_county}}) {
      for (const auto& [id, t] : *table) {
        csv_row(out,
                {level, id, t.name, std::to_string(t.visits), std::to_string(t.submitted),
                 std::to_string(t.approved), std::to_string(t.findings), std::to_string(t.flags)});
      }
    }
    return out;
  }

  // CSV: the columns of one template.
  std::set<std::string> used;
  for (const VisitView& v : chosen) used.insert(v.template_id);
  if (used.size() > 1) {
    return Status::invalid_input("visits use " + std::to_string(used.size()) + " templates (" +
                                 join({used.begin(), used.end()}, ", ") +
                                 "): a CSV export needs --template");
  }
  // Columns: every item of the template versions in use, in the newest version's order, then
  // items only older versions have: no answer is left out, and the header depends only on the
  // versions in use, not on the order of the visits.
  std::vector<std::shared_ptr<const Template>> versions;
  for (const VisitView& v : chosen) {
    if (!v.checklist) {
      return Status::not_found("visit " + v.id + " uses " + v.template_id + " version " +
                               std::to_string(v.template_version) +
                               (impl_->mode == "standalone"
                                    ? ", which this device does not hold (publish it here)"
                                    : ", which has not arrived here yet: sync, then export"));
    }
    const bool known = std::any_of(versions.begin(), versions.end(), [&](const auto& t) {
      return t->version == v.checklist->version;
    });
    if (!known) versions.push_back(v.checklist);
  }
  if (versions.empty() && !template_id.empty()) {
    Result<std::shared_ptr<const Template>> t = find_template(template_id);
    if (!t.ok()) return t.status();
    versions.push_back(t.value());
  }
  std::sort(versions.begin(), versions.end(),
            [](const auto& x, const auto& y) { return x->version > y->version; });
  std::vector<std::string> columns;
  std::set<std::string> seen;
  for (const auto& t : versions) {
    for (const Item* item : t->items()) {
      if (seen.insert(item->key).second) columns.push_back(item->key);
    }
  }
  std::vector<std::string> header = {"visit_id",      "school_id",        "school_name", "county",
                                     "template_id",   "template_version", "status",      "round",
                                     "started_by",    "started_at",       "inspectors",  "findings",
                                     "open_conflicts"};
  header.insert(header.end(), columns.begin(), columns.end());
  csv_row(out, header);
  for (const VisitView& v : chosen) {
    const School& s = school_of(v.school_id);
    std::vector<std::string> findings;
    for (const Finding& f : v.findings) findings.push_back(f.level + ": " + f.message);
    std::vector<std::string> row = {v.id,
                                    v.school_id,
                                    s.name,
                                    s.county,
                                    v.template_id,
                                    std::to_string(v.template_version),
                                    std::string(phase_name(v.status.phase)),
                                    std::to_string(v.status.round),
                                    v.started_by,
                                    v.started_at,
                                    join(v.inspectors, ","),
                                    join(findings, "; "),
                                    std::to_string(v.flags.size())};
    for (const std::string& key : columns) {
      auto a = std::find_if(v.answers.begin(), v.answers.end(),
                            [&](const Answer& x) { return x.item->key == key; });
      row.push_back(a == v.answers.end() ? "" : answer_cell(*a));
    }
    csv_row(out, row);
  }
  return out;
}

}  // namespace vs
