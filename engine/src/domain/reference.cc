// Reference data from CSV: schools, inspectors, assignments. All rows or none; each bad row is
// reported with its line number and reason; re-importing writes only what changed.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include <visitsync/inspection.h>

#include "domain/csv.h"
#include "domain/inspection_impl.h"

namespace vs {
namespace {

constexpr std::size_t kMaxReported = 20;
constexpr std::size_t kMaxTextCell = 200;

// One row turned into a record and its fields.
struct Parsed {
  std::string key;
  std::vector<std::pair<std::string, Value>> fields;
  std::string inspector, school;  // assignments: what the row refers to
};

// Reads the cells of one row by column name and keeps the first problem.
class RowReader {
 public:
  RowReader(const std::map<std::string, std::size_t>& columns, const domain::CsvRow& row)
      : columns_(columns), row_(row) {}
  Status error;

  const std::string& cell(const char* column) const { return row_.cells[columns_.at(column)]; }
  std::string id(const char* column) {
    const std::string& v = cell(column);
    if (!domain::valid_ref_id(v))
      fail(column, "'" + v + "' is not an id (1 to 32 of A-Z a-z 0-9 _ -)");
    return v;
  }
  Value text(const char* column, bool required = true) {
    const std::string& v = cell(column);
    if (required && v.empty()) fail(column, "empty");
    if (v.size() > kMaxTextCell)
      fail(column, "longer than " + std::to_string(kMaxTextCell) + " bytes");
    return Value::text(v);
  }
  Value one_of(const char* column, const std::vector<std::string>& allowed) {
    const std::string& v = cell(column);
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(column, "'" + v + "' is not one of " + list);
    }
    return Value::text(v);
  }
  Value count(const char* column) {
    const std::string& v = cell(column);
    std::int64_t n = -1;
    const auto res = std::from_chars(v.data(), v.data() + v.size(), n);
    if (res.ec != std::errc() || res.ptr != v.data() + v.size() || n < 0 || n > 100'000'000) {
      fail(column, "'" + v + "' is not a count");
    }
    return Value::integer(n);
  }
  Value flag(const char* column) {
    const std::string& v = cell(column);
    if (v != "0" && v != "1") fail(column, "'" + v + "' is not 0 or 1");
    return Value::boolean(v == "1");
  }
  double coordinate(const char* column, double limit) {
    const std::string& v = cell(column);
    double d = 0;
    const auto res = std::from_chars(v.data(), v.data() + v.size(), d);
    if (res.ec != std::errc() || res.ptr != v.data() + v.size() || !std::isfinite(d) ||
        std::fabs(d) > limit) {
      fail(column, "'" + v + "' is not a coordinate from -" +
                       std::to_string(static_cast<int>(limit)) + " to " +
                       std::to_string(static_cast<int>(limit)));
    }
    return d;
  }
  // A date; with `optional`, an empty cell is null.
  Value date(const char* column, bool optional = false) {
    if (optional && cell(column).empty()) return Value();
    Result<Date> d = parse_date(cell(column));
    if (!d.ok()) {
      fail(column, d.status().message());
      return Value();
    }
    return Value::date(d.value());
  }
  void fail(const std::string& column, const std::string& what) {
    if (error.ok()) error = Status::invalid_input(column + ": " + what);
  }

 private:
  const std::map<std::string, std::size_t>& columns_;
  const domain::CsvRow& row_;
};

Parsed parse_school(RowReader& r) {
  Parsed p;
  p.key = domain::school_record(r.id("school_id"));
  p.fields = {{"name", r.text("name")},
              {"city", r.text("city")},
              {"county", r.text("county")},
              {"township", r.text("township", false)},
              {"level", r.one_of("level", school_levels())},
              {"boarding", r.flag("boarding")},
              {"students", r.count("students")},
              {"teachers", r.count("teachers")}};
  const double lat = r.coordinate("lat", 90);
  const double lon = r.coordinate("lon", 180);
  p.fields.emplace_back("location", Value::gps({lat, lon, std::nullopt}));
  return p;
}

Parsed parse_inspector(RowReader& r) {
  Parsed p;
  p.key = domain::inspector_record(r.id("inspector_id"));
  p.fields = {{"name", r.text("name")},
              {"role", r.one_of("role", {"inspector", "supervisor"})},
              {"county", r.text("county")}};
  return p;
}

Parsed parse_assignment(RowReader& r) {
  Parsed p;
  p.inspector = r.id("inspector_id");
  p.school = r.id("school_id");
  p.key = domain::assignment_record(p.inspector, p.school);
  const Value from = r.date("from");
  const Value until = r.date("until", true);  // empty: the assignment has no end
  if (r.error.ok() && !until.is_null() && until.as_date().days < from.as_date().days)
    r.fail("until", "before from");
  p.fields = {{"from", from}, {"until", until}};
  return p;
}

struct KindSpec {
  const char* what;  // "school", in messages
  std::vector<std::string> columns;
  Parsed (*parse)(RowReader&);
};

const KindSpec& spec_of(ReferenceKind kind) {
  static const KindSpec kSchools{"school",
                                 {"school_id", "name", "city", "county", "township", "level",
                                  "boarding", "students", "teachers", "lat", "lon"},
                                 parse_school};
  static const KindSpec kInspectors{
      "inspector", {"inspector_id", "name", "role", "county"}, parse_inspector};
  static const KindSpec kAssignments{
      "assignment", {"inspector_id", "school_id", "from", "until"}, parse_assignment};
  switch (kind) {
    case ReferenceKind::kSchools:
      return kSchools;
    case ReferenceKind::kInspectors:
      return kInspectors;
    case ReferenceKind::kAssignments:
      return kAssignments;
  }
  return kSchools;
}

Result<std::map<std::string, std::size_t>> check_header(const std::vector<std::string>& header,
                                                        const KindSpec& spec) {
  std::map<std::string, std::size_t> columns;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& name = header[i];
    if (std::find(spec.columns.begin(), spec.columns.end(), name) == spec.columns.end()) {
      return Status::invalid_input("line 1: unknown column '" + name + "'");
    }
    if (!columns.emplace(name, i).second)
      return Status::invalid_input("line 1: column '" + name + "' twice");
  }
  for (const std::string& c : spec.columns) {
    if (columns.count(c) == 0) return Status::invalid_input("line 1: missing column '" + c + "'");
  }
  return columns;
}

}  // namespace

Result<ImportReport> Inspection::import_reference(ReferenceKind kind, std::string_view csv) {
  const KindSpec& spec = spec_of(kind);
  domain::CsvReader csv_reader(domain::text_source(csv));
  Result<std::vector<std::string>> header = csv_reader.header();
  if (!header.ok()) return header.status().annotate("nothing imported");
  std::vector<domain::CsvRow> table;
  for (domain::CsvRow row;;) {
    Result<bool> got = csv_reader.next(row);
    if (!got.ok()) return got.status().annotate("nothing imported");
    if (!got.value()) break;
    table.push_back(std::move(row));
  }
  Result<std::map<std::string, std::size_t>> columns = check_header(header.value(), spec);
  if (!columns.ok()) return columns.status().annotate("nothing imported");

  std::vector<std::string> problems;
  std::vector<Parsed> rows;
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
    RowReader reader(columns.value(), row);
    Parsed p = spec.parse(reader);
    if (!reader.error.ok()) {
      problems.push_back(at + reader.error.message());
      continue;
    }
    if (auto [it, fresh] = first_line.emplace(p.key, row.line); !fresh) {
      problems.push_back(at + spec.what + " " + p.key.substr(p.key.find('/') + 1) +
                         " is listed twice (first on line " + std::to_string(it->second) + ")");
      continue;
    }
    if (kind == ReferenceKind::kAssignments) {
      for (const auto& [ref, what] :
           {std::pair{domain::inspector_record(p.inspector), "inspector " + p.inspector},
            std::pair{domain::school_record(p.school), "school " + p.school}}) {
        Result<bool> ok = exists(ref);
        if (!ok.ok()) return ok.status();
        if (!ok.value()) problems.push_back(at + what + " is not imported");
      }
    }
    rows.push_back(std::move(p));
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
  for (const Parsed& p : rows) {
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
