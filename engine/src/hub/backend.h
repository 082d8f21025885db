// The hub's storage, as the hub's logic (hub_store.cc, push.cc, pull.cc, scope.cc) uses it: the
// device registry, refusals, served scope sets, the reference data the rules read, visit
// records, the merge, and the op log in position order. The logic holds no SQL and no SQLite
// type; a second backend (PostgreSQL) implements this class and runs the same logic.
// sqlite_backend.cc is the embedded one. One thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <visitsync/checklist.h>
#include <visitsync/engine.h>
#include <visitsync/inspection.h>
#include <visitsync/types.h>

namespace vs::hub {

// A device as the registry stores it (its role comes from the reference data).
struct DeviceRow {
  std::string device_id;
  std::string inspector_id;
  bool revoked = false;
  std::uint64_t acked_seq = 0;
  std::uint64_t acked_print = 0;
};

// What a record holds, as the rules read it: the ops it has merged and each field's state.
struct StoredField {
  std::string name;
  Policy policy = Policy::kLww;
  Value merged;                     // merge::merged_value of the field
  std::string first_writer;         // the device of its oldest entry ("" when it has none)
  std::vector<Value> union_values;  // a union field: the value of each of its entries
};
struct StoredRecord {
  // Ranges of seqs [first, last] the record holds, by device name.
  std::vector<std::pair<std::string, std::pair<std::uint64_t, std::uint64_t>>> ops;
  std::vector<StoredField> fields;
};

// One row of the op log, as a scan meets it: a run of one device's ops on one record.
class LogRow {
 public:
  virtual ~LogRow() = default;
  virtual std::uint64_t pos() const = 0;
  virtual std::string_view device() const = 0;
  virtual std::string_view record() const = 0;  // "" only in a damaged row; read() says so
  virtual std::size_t op_count() const = 0;
  virtual std::size_t stored_bytes() const = 0;  // of its stored values and bases
  // Appends the row's ops to `out`; kCorrupt when the row cannot be read.
  virtual Status read(std::vector<Op>& out) const = 0;
};
enum class Scan { kNext, kStop };
using RowVisitor = std::function<Result<Scan>(const LogRow&)>;

class Backend {
 public:
  virtual ~Backend() = default;

  // Runs `fn` in one transaction: everything it wrote is stored, or (on an error) none of it.
  virtual Status transaction(const std::function<Status()>& fn) = 0;

  // The device registry. find_device: nullopt when the id is not enrolled.
  virtual Result<std::optional<DeviceRow>> find_device(std::string_view id) = 0;
  virtual Status insert_device(const DeviceRow& d, std::int64_t enrolled_ms) = 0;
  virtual Status revoke_device(std::string_view id, std::int64_t at_ms) = 0;
  virtual Result<std::vector<std::string>> device_ids() = 0;  // sorted
  virtual Status set_acked(std::string_view id, std::uint64_t seq, std::uint64_t print) = 0;

  // Refused ops and their reasons, by (device, seq); a second reason for a seq replaces the first.
  virtual Status add_rejection(std::string_view device, std::uint64_t seq,
                               const std::string& reason) = 0;
  virtual Result<bool> is_rejected(std::string_view device, std::uint64_t seq) = 0;
  // The reasons for seqs in [lo, hi], by seq, at most `limit`.
  virtual Result<std::vector<std::pair<std::uint64_t, std::string>>> reasons(
      std::string_view device, std::uint64_t lo, std::uint64_t hi, std::size_t limit) = 0;

  // Scope sets a device's cursors name, by digest: nullopt when the digest is unknown.
  virtual Result<std::optional<std::string>> served_scopes(std::string_view device,
                                                           std::string_view digest) = 0;
  virtual Status add_served_scopes(std::string_view device, std::string_view digest,
                                   const std::string& scopes) = 0;

  // The reference data. Each returns kNotFound when the id is unknown.
  virtual Result<Inspector> inspector(std::string_view id) = 0;
  virtual Result<School> school(std::string_view id) = 0;
  virtual Result<std::vector<std::string>> assigned_schools(std::string_view inspector) = 0;
  virtual Result<std::vector<std::string>> schools_in_county(std::string_view county) = 0;
  // The published template, or kNotFound; kInvalidInput when it is stored but unreadable.
  virtual Result<std::shared_ptr<const Template>> find_template(std::string_view id,
                                                                int version) = 0;
  // Changes whenever the reference data may have changed since the last call returned it:
  // another process committed, or this hub wrote ops of its own.
  virtual Result<std::string> reference_mark() = 0;

  // A record as it is stored, nullopt when there is none.
  virtual Result<std::optional<StoredRecord>> load_record(std::string_view key) = 0;
  // Merges ops the hub has authorized (Engine::apply_remote).
  virtual Result<ApplyReport> apply(const std::vector<Op>& ops) = 0;
  virtual Hlc now_hlc() = 0;

  // The op log: positions start at 1; log_end() is the last (0 when empty).
  virtual Result<std::uint64_t> log_end() = 0;
  // The ops of the row at `pos`, nullopt past the end.
  virtual Result<std::optional<std::vector<Op>>> row_at(std::uint64_t pos) = 0;
  // Rows at positions in (after, until] not written by `skip_device`, in position order, until
  // `visit` says kStop or returns an error (which scan_log returns).
  virtual Status scan_log(std::uint64_t after, std::uint64_t until, std::string_view skip_device,
                          const RowVisitor& visit) = 0;
  // The same over one record's rows (`record` from records_under or record_id).
  virtual Status scan_record(std::int64_t record, std::uint64_t after, std::uint64_t until,
                             const RowVisitor& visit) = 0;
  // Ids of the records whose key starts with `prefix`, or is `key`, with id >= from: a
  // record's id never changes, and a newer record's id is higher.
  virtual Result<std::vector<std::int64_t>> records_under(std::string_view prefix,
                                                          std::int64_t from) = 0;
  virtual Result<std::vector<std::int64_t>> record_id(std::string_view key, std::int64_t from) = 0;
};

}  // namespace vs::hub
