#include "domain/reference_rows.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "domain/model.h"

namespace vs::domain {
namespace {

constexpr std::size_t kMaxTextCell = 200;

// Reads the cells of one row by column name and keeps the first problem.
class RowReader {
 public:
  RowReader(const ColumnIndex& columns, const CsvRow& row) : columns_(columns), row_(row) {}
  Status error;

  const std::string& cell(const char* column) const { return row_.cells[columns_.at(column)]; }
  std::string id(const char* column) {
    const std::string& v = cell(column);
    if (!valid_ref_id(v))
      fail(column, "'" + excerpt(v) + "' is not an id (1 to 32 of A-Z a-z 0-9 _ -)");
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
      fail(column, "'" + excerpt(v) + "' is not one of " + list);
    }
    return Value::text(v);
  }
  Value count(const char* column) {
    const std::string& v = cell(column);
    std::int64_t n = -1;
    const auto res = std::from_chars(v.data(), v.data() + v.size(), n);
    if (res.ec != std::errc() || res.ptr != v.data() + v.size() || n < 0 || n > 100'000'000) {
      fail(column, "'" + excerpt(v) + "' is not a count");
    }
    return Value::integer(n);
  }
  Value flag(const char* column) {
    const std::string& v = cell(column);
    if (v != "0" && v != "1") fail(column, "'" + excerpt(v) + "' is not 0 or 1");
    return Value::boolean(v == "1");
  }
  double coordinate(const char* column, double limit) {
    const std::string& v = cell(column);
    double d = 0;
    const auto res = std::from_chars(v.data(), v.data() + v.size(), d);
    if (res.ec != std::errc() || res.ptr != v.data() + v.size() || !std::isfinite(d) ||
        std::fabs(d) > limit) {
      fail(column, "'" + excerpt(v) + "' is not a coordinate from -" +
                       std::to_string(static_cast<int>(limit)) + " to " +
                       std::to_string(static_cast<int>(limit)));
    }
    return d;
  }
  // A date; with `optional`, an empty cell is null.
  Value date(const char* column, bool optional = false) {
    const std::string& v = cell(column);
    if (optional && v.empty()) return Value();
    if (v.size() > 10) {  // parse_date would quote it whole
      fail(column, "'" + excerpt(v) + "' is not a date (YYYY-MM-DD)");
      return Value();
    }
    Result<Date> d = parse_date(v);
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
  const ColumnIndex& columns_;
  const CsvRow& row_;
};

ReferenceRow parse_school(RowReader& r) {
  ReferenceRow p;
  p.key = school_record(r.id("school_id"));
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

ReferenceRow parse_inspector(RowReader& r) {
  ReferenceRow p;
  p.key = inspector_record(r.id("inspector_id"));
  p.fields = {{"name", r.text("name")},
              {"role", r.one_of("role", {"inspector", "supervisor"})},
              {"county", r.text("county")}};
  return p;
}

ReferenceRow parse_assignment(RowReader& r) {
  ReferenceRow p;
  p.inspector = r.id("inspector_id");
  p.school = r.id("school_id");
  p.key = assignment_record(p.inspector, p.school);
  const Value from = r.date("from");
  const Value until = r.date("until", true);  // empty: the assignment has no end
  if (r.error.ok() && !until.is_null() && until.as_date().days < from.as_date().days)
    r.fail("until", "before from");
  p.fields = {{"from", from}, {"until", until}};
  return p;
}

struct KindSpec {
  const char* what;
  std::vector<std::string> columns;
  ReferenceRow (*parse)(RowReader&);
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

}  // namespace

const char* reference_what(ReferenceKind kind) { return spec_of(kind).what; }

Result<ColumnIndex> reference_columns(ReferenceKind kind, const std::vector<std::string>& header) {
  const KindSpec& spec = spec_of(kind);
  ColumnIndex columns;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& name = header[i];
    if (std::find(spec.columns.begin(), spec.columns.end(), name) == spec.columns.end()) {
      return Status::invalid_input("line 1: unknown column '" + excerpt(name) + "'");
    }
    if (!columns.emplace(name, i).second)
      return Status::invalid_input("line 1: column '" + name + "' twice");
  }
  for (const std::string& c : spec.columns) {
    if (columns.count(c) == 0) return Status::invalid_input("line 1: missing column '" + c + "'");
  }
  return columns;
}

Result<ReferenceRow> parse_reference_row(ReferenceKind kind, const ColumnIndex& columns,
                                         const CsvRow& row) {
  // Every column is required (reference_columns), so the header has one cell per column.
  if (row.cells.size() != columns.size()) {
    return Status::invalid_input(std::to_string(row.cells.size()) + " cells, the header has " +
                                 std::to_string(columns.size()));
  }
  RowReader reader(columns, row);
  ReferenceRow parsed = spec_of(kind).parse(reader);
  if (!reader.error.ok()) return reader.error;
  return parsed;
}

}  // namespace vs::domain
