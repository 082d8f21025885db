// The op log: every op this replica has, in arrival order, with device ids and field names
// interned to integers. This replica's own device is always idx 1 (the store is created that
// way), which lets one small partial index serve its own ops.
//
// Ops received from other devices are stored in runs: one row holds an op in its columns and,
// encoded in `more`, up to kMaxRunOps - 1 ops that came right after it in the same batch
// (apply_remote) from the same device for the same record (schema/store/0003_op_runs.sql).
// A log position names a row, so readers get a run whole.
//
// Callers hold a transaction around writes. Interned ids are cached; after a rollback the caller
// must call forget_cache(), since ids made inside the rolled-back work are gone.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <visitsync/engine.h>
#include <visitsync/types.h>

#include "store/db.h"

namespace vs::changelog {

inline constexpr std::int64_t kOwnDeviceIdx = 1;
// The most ops one log row holds; and a run takes no more ops once its `more` holds this many
// bytes, so a row holds at most kMaxRunBytes plus two ops' worth.
inline constexpr std::int64_t kMaxRunOps = 256;
inline constexpr std::size_t kMaxRunBytes = 256u << 10;

// The start of a query of log rows: append WHERE and ORDER BY. OpLog::read_row() reads its rows.
extern const char* const kRowSelect;

// Interned names (device ids, field names) by name, looked up without a copy of the key.
using NameCache = std::map<std::string, std::int64_t, std::less<>>;

class OpLog {
 public:
  static Result<OpLog> create(store::Db& db);

  // The idx of a device id, creating it if missing.
  Result<std::int64_t> device_idx(std::string_view device);
  // The idx of a known device; nullopt when unknown.
  Result<std::optional<std::int64_t>> find_device(std::string_view device);

  // The id of a device idx (kDamaged if unknown).
  Result<std::string> device_name(std::int64_t idx);

  // Appends an op of the record `record_idx`. Requires: the caller checked it is new. Rows are
  // written in groups: flush() before the transaction commits (reads of the log flush first).
  Status append(const Op& op, std::int64_t device_idx, std::int64_t record_idx);
  Status flush();

  // This replica's own ops with seq > after, in seq order.
  Result<std::vector<Op>> own_after(std::uint64_t after, std::size_t limit);
  // Ops in arrival order after `cursor`: at most `limit`, or one row's run if it holds more.
  Result<LogSlice> after(std::uint64_t cursor, std::size_t limit);
  // Every op of one record, in arrival order (runs are of one record, so rows come whole).
  Result<std::vector<Op>> of_record(std::string_view record);

  // The ops of the current row of a kRowSelect query, appended to `out`.
  Status read_row(const store::Stmt& st, std::vector<Op>& out);
  // The position, device id, record key and number of ops of the current row of such a query.
  static std::uint64_t row_pos(const store::Stmt& st);
  static std::string_view row_device(const store::Stmt& st);
  static std::string_view row_record(const store::Stmt& st);
  static std::uint64_t row_seq(const store::Stmt& st);  // of the row's first op
  static std::size_t row_ops(const store::Stmt& st);
  // The bytes of its encoded values, bases and run.
  static std::size_t row_bytes(const store::Stmt& st);
  // Highest seq of this replica's own ops (0 if none).
  Result<std::uint64_t> last_own_seq();
  Result<std::uint64_t> count();

  // After a rollback: interned ids made in it are gone, and so are rows not yet written.
  void forget_cache() {
    last_idx_ = 0;
    fields_.clear();
    field_names_.clear();
    devices_.clear();
    names_.clear();
    pending_.clear();
  }

 private:
  explicit OpLog(store::Db& db) : db_(&db) {}
  Result<std::vector<Op>> read_ops(store::Stmt& st, std::size_t limit, std::uint64_t* last_pos);
  Status read_more(std::string_view more, std::size_t count, std::vector<Op>& out);
  Result<std::string> field_name(std::int64_t idx);

  store::Db* db_;
  struct Row {
    std::int64_t device = 0, seq = 0, hlc = 0, record = 0, policy = 0, context = 0, field = 0;
    std::string value, base;
    std::string more;           // the run's further ops, encoded
    std::int64_t more_ops = 0;  // how many
    std::int64_t last_seq = 0;  // seq and hlc of the run's last op: `more` holds differences
    std::int64_t last_hlc = 0;
  };
  static constexpr std::size_t kRowsPerInsert = 32;  // one statement writes this many rows
  Status write_rows(store::Stmt& st, std::size_t from, std::size_t count);

  std::vector<Row> pending_;
  store::Stmt append_many_;
  store::Stmt find_device_, add_device_, device_name_, append_, own_after_, after_, last_own_seq_,
      count_;
  Result<std::int64_t> field_idx(std::string_view name);
  store::Stmt find_field_, add_field_, field_name_;
  NameCache fields_;
  std::unordered_map<std::int64_t, std::string> field_names_;
  std::string scratch_;
  NameCache devices_;
  std::string last_device_;  // the last device_idx() answer
  std::int64_t last_idx_ = 0;
  std::unordered_map<std::int64_t, std::string> names_;
};

// The stored form of a base (empty bases are stored as NULL), and back.
std::string encode_base(const std::vector<OpId>& base);
Result<std::vector<OpId>> decode_base(std::string_view bytes);

}  // namespace vs::changelog
