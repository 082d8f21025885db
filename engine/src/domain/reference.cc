// Reference data from CSV: schools, inspectors, assignments. All rows or none; each bad row is
// reported with its line number and reason; re-importing writes only what changed.
#include <map>
#include <set>

#include <visitsync/inspection.h>

#include "domain/csv.h"
#include "domain/inspection_impl.h"
#include "domain/reference_rows.h"

namespace vs {
namespace {

constexpr std::size_t kMaxReported = 20;

}  // namespace

Result<ImportReport> Inspection::import_reference(ReferenceKind kind, std::string_view csv) {
  domain::CsvReader reader(domain::text_source(csv));
  Result<std::vector<std::string>> header = reader.header();
  if (!header.ok()) return header.status().annotate("nothing imported");
  std::vector<domain::CsvRow> table;
  for (domain::CsvRow row;;) {
    Result<bool> got = reader.next(row);
    if (!got.ok()) return got.status().annotate("nothing imported");
    if (!got.value()) break;
    table.push_back(std::move(row));
  }
  Result<domain::ColumnIndex> columns = domain::reference_columns(kind, header.value());
  if (!columns.ok()) return columns.status().annotate("nothing imported");

  std::vector<std::string> problems;
  std::vector<domain::ReferenceRow> rows;
  std::map<std::string, std::size_t> first_line;
  std::set<std::string> known;  // records checked to exist (assignments' references)
  Engine& engine = *impl_->engine;
  auto exists = [&](const std::string& key) -> Result<bool> {
    if (known.count(key) != 0) return true;
    Result<RecordView> r = engine.read(key);
    if (!r.ok() && r.status().code() != Code::kNotFound) return r.status();
    if (r.ok()) known.insert(key);
    return r.ok();
  };
  for (const domain::CsvRow& row : table) {
    const std::string at = "line " + std::to_string(row.line) + ": ";
    if (row.cells.size() != header->size()) {
      problems.push_back(at + std::to_string(row.cells.size()) + " cells, the header has " +
                         std::to_string(header->size()));
      continue;
    }
    Result<domain::ReferenceRow> p = domain::parse_reference_row(kind, columns.value(), row);
    if (!p.ok()) {
      problems.push_back(at + p.status().message());
      continue;
    }
    if (auto [it, fresh] = first_line.emplace(p->key, row.line); !fresh) {
      problems.push_back(at + domain::reference_what(kind) + " " +
                         p->key.substr(p->key.find('/') + 1) + " is listed twice (first on line " +
                         std::to_string(it->second) + ")");
      continue;
    }
    if (kind == ReferenceKind::kAssignments) {
      for (const auto& [ref, what] :
           {std::pair{domain::inspector_record(p->inspector), "inspector " + p->inspector},
            std::pair{domain::school_record(p->school), "school " + p->school}}) {
        Result<bool> ok = exists(ref);
        if (!ok.ok()) return ok.status();
        if (!ok.value()) problems.push_back(at + what + " is not imported");
      }
    }
    rows.push_back(std::move(p.value()));
  }
  if (!problems.empty()) {
    std::string msg = std::to_string(problems.size()) + " bad row" +
                      (problems.size() == 1 ? "" : "s") + ", nothing imported";
    for (std::size_t i = 0; i < problems.size() && i < kMaxReported; ++i)
      msg += "\n  " + problems[i];
    if (problems.size() > kMaxReported)
      msg += "\n  ... and " + std::to_string(problems.size() - kMaxReported) + " more";
    return Status::invalid_input(msg);
  }

  // Only what changed is written: a re-import of the same file writes nothing.
  ImportReport report;
  report.rows = rows.size();
  std::vector<Write> writes;
  for (const domain::ReferenceRow& p : rows) {
    Result<RecordView> current = engine.read(p.key);
    if (!current.ok() && current.status().code() != Code::kNotFound) return current.status();
    const std::size_t before = writes.size();
    for (const auto& [field, value] : p.fields) {
      const FieldView* f = current.ok() ? current->find(field) : nullptr;
      if (f == nullptr || f->value != value || f->conflict) {
        writes.push_back(Write{p.key, field, Policy::kLww, value, 0});
      }
    }
    if (!current.ok()) {
      ++report.created;
    } else if (writes.size() != before) {
      ++report.updated;
    } else {
      ++report.unchanged;
    }
  }
  if (!writes.empty()) {
    Result<std::vector<OpId>> ids = engine.write_batch(writes);
    if (!ids.ok()) return ids.status();
  }
  return report;
}

}  // namespace vs
