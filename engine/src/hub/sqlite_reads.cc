// SqliteBackend (sqlite_backend.h): the reference data, records, the merge and the op log.
#include "domain/model.h"
#include "hub/sqlite_backend.h"
#include "merge/field_state.h"

namespace vs::hub {
namespace {

// The current row of a kRowSelect query.
class StmtRow final : public LogRow {
 public:
  StmtRow(const store::Stmt& st, changelog::OpLog& log) : st_(st), log_(log) {}
  std::uint64_t pos() const override { return changelog::OpLog::row_pos(st_); }
  std::string_view device() const override { return changelog::OpLog::row_device(st_); }
  std::string_view record() const override { return changelog::OpLog::row_record(st_); }
  std::size_t op_count() const override { return changelog::OpLog::row_ops(st_); }
  std::size_t stored_bytes() const override { return changelog::OpLog::row_bytes(st_); }
  Status read(std::vector<Op>& out) const override { return log_.read_row(st_, out); }

 private:
  const store::Stmt& st_;
  changelog::OpLog& log_;
};

}  // namespace

Result<Inspector> SqliteBackend::inspector(std::string_view id) { return in_->inspector(id); }
Result<School> SqliteBackend::school(std::string_view id) { return in_->school(id); }

Result<std::vector<std::string>> SqliteBackend::assigned_schools(std::string_view inspector) {
  return in_->assigned_schools(inspector);
}

Result<std::vector<std::string>> SqliteBackend::schools_in_county(std::string_view county) {
  Result<std::vector<std::string>> keys = in_->engine().records_with_prefix(domain::kSchoolPrefix);
  if (!keys.ok()) return keys.status();
  std::vector<std::string> out;
  for (const std::string& key : keys.value()) {
    Result<std::optional<FieldView>> c = in_->engine().read_field(key, "county");
    if (!c.ok()) return c.status();
    if (c.value() && c.value()->value == Value::text(std::string(county)))
      out.push_back(key.substr(domain::kSchoolPrefix.size()));
  }
  return out;
}

Result<std::shared_ptr<const Template>> SqliteBackend::find_template(std::string_view id,
                                                                     int version) {
  return in_->find_template(id, version);
}

Result<std::string> SqliteBackend::reference_mark() {
  // PRAGMA data_version moves when another connection (visitsync-admin) commits; the hub's
  // own writes (reference data, reviews) are ops of its own.
  Result<bool> row = data_version_.step();
  if (!row.ok()) return row.status();
  const std::int64_t version = data_version_.int64(0);
  data_version_.reset();
  Result<std::uint64_t> own = log_->last_own_seq();
  if (!own.ok()) return own.status();
  return std::to_string(version) + ":" + std::to_string(own.value());
}

Result<std::optional<StoredRecord>> SqliteBackend::load_record(std::string_view key) {
  Result<std::optional<merge::RecordTable::Loaded>> stored = in_->engine().impl().records.load(key);
  if (!stored.ok()) return stored.status();
  if (!stored.value()) return std::optional<StoredRecord>();
  merge::RecordState& rs = stored.value()->state;
  StoredRecord out;
  for (const auto& [idx, ranges] : rs.seen().ranges()) {
    Result<std::string> name = log_->device_name(idx);
    if (!name.ok()) return name.status();
    for (const auto& range : ranges) out.ops.emplace_back(name.value(), range);
  }
  for (const std::string& f : rs.field_names()) {
    Result<merge::FieldState*> fs = rs.find(f);
    if (!fs.ok()) return fs.status().annotate("record '" + std::string(key) + "'");
    const merge::FieldState& st = *fs.value();
    StoredField field{f, st.policy, merge::merged_value(st), {}, {}};
    if (!st.entries.empty()) field.first_writer = st.entries.front().op.device;
    if (st.policy == Policy::kUnion) {
      for (const merge::Entry& e : st.entries) field.union_values.push_back(e.value);
    }
    out.fields.push_back(std::move(field));
  }
  return std::optional<StoredRecord>(std::move(out));
}

Result<ApplyReport> SqliteBackend::apply(const std::vector<Op>& ops) {
  return in_->engine().apply_remote(ops);
}

Hlc SqliteBackend::now_hlc() { return in_->engine().now_hlc(); }

Result<std::uint64_t> SqliteBackend::log_end() {
  Result<bool> row = max_pos_.step();
  if (!row.ok()) return row.status();
  const auto end = static_cast<std::uint64_t>(max_pos_.int64(0));
  max_pos_.reset();
  return end;
}

Result<std::optional<std::vector<Op>>> SqliteBackend::row_at(std::uint64_t pos) {
  op_at_.bind(1, pos);
  Result<bool> row = op_at_.step();
  std::optional<std::vector<Op>> ops;
  Status s = row.status();
  if (row.ok() && row.value()) s = log_->read_row(op_at_, ops.emplace());
  op_at_.reset();
  if (!s.ok()) return s;
  return ops;
}

Status SqliteBackend::scan(store::Stmt& st, const RowVisitor& visit) {
  const StmtRow current(st, *log_);
  return each_row(st, [&](const store::Stmt&) -> Result<bool> {
    Result<Scan> next = visit(current);
    if (!next.ok()) return next.status();
    return next.value() == Scan::kNext;
  });
}

Status SqliteBackend::scan_log(std::uint64_t after, std::uint64_t until,
                               std::string_view skip_device, const RowVisitor& visit) {
  // The skipped device's rows are left out by the query, before its joins: after a large push
  // they are most of the window.
  Result<std::optional<std::int64_t>> skip = log_->find_device(skip_device);
  if (!skip.ok()) return skip.status();
  window_.bind(1, after).bind(2, until).bind(3, skip.value().value_or(0));
  return scan(window_, visit);
}

Status SqliteBackend::scan_record(std::int64_t record, std::uint64_t after, std::uint64_t until,
                                  const RowVisitor& visit) {
  record_ops_.bind(1, record).bind(2, after).bind(3, until);
  return scan(record_ops_, visit);
}

Result<std::vector<std::int64_t>> SqliteBackend::ids(store::Stmt& st) {
  std::vector<std::int64_t> out;
  Status s = each_row(st, [&](const store::Stmt& row) -> Result<bool> {
    out.push_back(row.int64(0));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<std::int64_t>> SqliteBackend::records_under(std::string_view prefix,
                                                               std::int64_t from) {
  // A range of the records' key index.
  const std::string p(prefix);
  records_by_prefix_.bind(1, p).bind(2, p + "\xFF").bind(3, from);
  return ids(records_by_prefix_);
}

Result<std::vector<std::int64_t>> SqliteBackend::record_id(std::string_view key,
                                                           std::int64_t from) {
  record_by_key_.bind(1, key).bind(2, from);
  return ids(record_by_key_);
}

}  // namespace vs::hub
