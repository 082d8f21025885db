// The op log: every op this replica has, in arrival order, with device ids interned to
// integers. This replica's own device is always idx 1 (the store is created that way), which
// lets one small partial index serve its own ops.
//
// Callers hold a transaction around writes. Interned device ids are cached; after a rollback the
// caller must call forget_cache(), since ids made inside the rolled-back work are gone.
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

// Interned names (device ids, field names) by name, looked up without a copy of the key.
using NameCache = std::map<std::string, std::int64_t, std::less<>>;

class OpLog {
 public:
  static Result<OpLog> create(store::Db& db);

  // The idx of a device id, creating it if missing.
  Result<std::int64_t> device_idx(std::string_view device);
  // The idx of a known device; nullopt when unknown.
  Result<std::optional<std::int64_t>> find_device(std::string_view device);

  // The id of a device idx (kCorrupt if unknown).
  Result<std::string> device_name(std::int64_t idx);

  // Appends an op of the record `record_idx`. Requires: the caller checked it is new. Rows are
  // written in groups: flush() before the transaction commits (reads of the log flush first).
  Status append(const Op& op, std::int64_t device_idx, std::int64_t record_idx);
  Status flush();

  // This replica's own ops with seq > after, in seq order.
  Result<std::vector<Op>> own_after(std::uint64_t after, std::size_t limit);
  // Ops in arrival order after `cursor`.
  Result<LogSlice> after(std::uint64_t cursor, std::size_t limit);
  // Highest seq of this replica's own ops (0 if none).
  Result<std::uint64_t> last_own_seq();
  Result<std::uint64_t> count();

  // After a rollback: interned ids made in it are gone, and so are rows not yet written.
  void forget_cache() {
    last_idx_ = 0;
    fields_.clear();
    devices_.clear();
    names_.clear();
    pending_.clear();
  }

 private:
  explicit OpLog(store::Db& db) : db_(&db) {}
  Result<std::vector<Op>> read_ops(store::Stmt& st, std::uint64_t* last_pos);

  store::Db* db_;
  struct Row {
    std::int64_t device, seq, hlc, record, policy, context;
    std::int64_t field;
    std::string value, base;
  };
  static constexpr std::size_t kRowsPerInsert = 32;  // one statement writes this many rows
  Status write_rows(store::Stmt& st, std::size_t from, std::size_t count);

  std::vector<Row> pending_;
  store::Stmt append_many_;
  store::Stmt find_device_, add_device_, device_name_, append_, own_after_, after_, last_own_seq_,
      count_;
  Result<std::int64_t> field_idx(std::string_view name);
  store::Stmt find_field_, add_field_;
  NameCache fields_;
  NameCache devices_;
  std::string last_device_;  // the last device_idx() answer
  std::int64_t last_idx_ = 0;
  std::unordered_map<std::int64_t, std::string> names_;
};

// The stored form of a base (empty bases are stored as NULL), and back.
std::string encode_base(const std::vector<OpId>& base);
Result<std::vector<OpId>> decode_base(std::string_view bytes);

}  // namespace vs::changelog
