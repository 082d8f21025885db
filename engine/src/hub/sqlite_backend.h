// The hub's embedded storage (backend.h) on the hub's SQLite data folder: the registry and hub
// tables the hub migrations add (store/migrations.cc), the reference data and visits through
// Inspection, the merge through its Engine. sqlite_backend.cc: opening, registry, refusals,
// served scopes; sqlite_reads.cc: reference data, records and the log.
#pragma once

#include <memory>
#include <string>

#include "engine_impl.h"
#include "hub/backend.h"

namespace vs::hub {

class SqliteBackend final : public Backend {
 public:
  // Opens a hub's data folder (made by Inspection::create in "hub" mode) and applies the hub's
  // migrations. kInvalidInput: a device's folder.
  static Result<std::unique_ptr<SqliteBackend>> open(const std::string& data_dir, Clock* clock);
  Inspection& inspection() { return *in_; }

  Status transaction(const std::function<Status()>& fn) override;
  Result<std::optional<DeviceRow>> find_device(std::string_view id) override;
  Status insert_device(const DeviceRow& d, std::int64_t enrolled_ms) override;
  Status revoke_device(std::string_view id, std::int64_t at_ms) override;
  Result<std::vector<std::string>> device_ids() override;
  Status set_acked(std::string_view id, std::uint64_t seq, std::uint64_t print) override;
  Status add_rejection(std::string_view device, std::uint64_t seq,
                       const std::string& reason) override;
  Result<bool> is_rejected(std::string_view device, std::uint64_t seq) override;
  Result<std::vector<std::pair<std::uint64_t, std::string>>> reasons(std::string_view device,
                                                                     std::uint64_t lo,
                                                                     std::uint64_t hi,
                                                                     std::size_t limit) override;
  Result<std::optional<std::string>> served_scopes(std::string_view device,
                                                   std::string_view digest) override;
  Status add_served_scopes(std::string_view device, std::string_view digest,
                           const std::string& scopes) override;

  Result<Inspector> inspector(std::string_view id) override;
  Result<School> school(std::string_view id) override;
  Result<std::vector<std::string>> assigned_schools(std::string_view inspector) override;
  Result<std::vector<std::string>> schools_in_county(std::string_view county) override;
  Result<std::shared_ptr<const Template>> find_template(std::string_view id, int version) override;
  Result<std::string> reference_mark() override;
  Result<std::optional<StoredRecord>> load_record(std::string_view key) override;
  Result<ApplyReport> apply(const std::vector<Op>& ops) override;
  Hlc now_hlc() override;
  Result<std::uint64_t> log_end() override;
  Result<std::optional<std::vector<Op>>> row_at(std::uint64_t pos) override;
  Status scan_log(std::uint64_t after, std::uint64_t until, std::string_view skip_device,
                  const RowVisitor& visit) override;
  Status scan_record(std::int64_t record, std::uint64_t after, std::uint64_t until,
                     const RowVisitor& visit) override;
  Result<std::vector<std::int64_t>> records_under(std::string_view prefix,
                                                  std::int64_t from) override;
  Result<std::vector<std::int64_t>> record_id(std::string_view key, std::int64_t from) override;

 private:
  SqliteBackend() = default;
  Status prepare();
  // Steps a kRowSelect query bound by the caller, handing each row to `visit`; resets it.
  Status scan(store::Stmt& st, const RowVisitor& visit);
  Result<std::vector<std::int64_t>> ids(store::Stmt& st);
  // Steps a bound query, calling `row` on each row until it returns false or an error (which
  // each_row returns); resets the query.
  static Status each_row(store::Stmt& st,
                         const std::function<Result<bool>(const store::Stmt&)>& row);

  std::unique_ptr<Inspection> in_;
  store::Db* db_ = nullptr;
  changelog::OpLog* log_ = nullptr;
  store::Stmt find_device_, insert_device_, revoke_, set_acked_, list_devices_, add_rejection_,
      rejections_, is_rejected_, window_, max_pos_, data_version_, op_at_;
  store::Stmt find_served_, add_served_, records_by_prefix_, record_by_key_, record_ops_;
};

}  // namespace vs::hub
