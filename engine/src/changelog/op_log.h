// The op log: every op this replica has, with device ids and record keys interned to integers.
//
// Callers hold a transaction around writes. Interned ids are cached; after a rollback the
// caller must call forget_cache(), since ids made inside the rolled-back work are gone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <visitsync/engine.h>
#include <visitsync/types.h>

#include "store/db.h"

namespace vs::changelog {

// What insert() found.
enum class Inserted { kNew, kDuplicate, kConflicting };

class OpLog {
 public:
  static Result<OpLog> create(store::Db& db);

  // The idx of a device or record key, creating it if missing. `created` tells whether it is
  // new (a new record has no fields yet, which spares a lookup).
  Result<std::int64_t> device_idx(std::string_view device);
  Result<std::int64_t> record_idx(std::string_view key, bool* created = nullptr);
  // The idx of an existing record or device; nullopt when unknown.
  Result<std::optional<std::int64_t>> find_record(std::string_view key);
  Result<std::optional<std::int64_t>> find_device(std::string_view device);

  // Appends an op. kDuplicate: the same op is already stored (nothing written);
  // kConflicting: another op is stored under the same id.
  Result<Inserted> insert(const Op& op, std::int64_t device_idx, std::int64_t record_idx);
  // True if the op with this id is stored.
  Result<bool> contains(const OpId& id);

  // The ops of one origin device with seq > after, in seq order.
  Result<std::vector<Op>> by_origin(std::int64_t device_idx, std::uint64_t after, std::size_t limit);
  // Ops in arrival order after `cursor`.
  Result<LogSlice> after(std::uint64_t cursor, std::size_t limit);
  // Highest seq stored for one device (0 if none).
  Result<std::uint64_t> last_seq(std::int64_t device_idx);
  // Number of ops stored, and of records.
  Result<std::uint64_t> count();
  Result<std::uint64_t> record_count();

  void forget_cache();

 private:
  explicit OpLog(store::Db& db) : db_(&db) {}
  Result<std::vector<Op>> read_ops(store::Stmt& st, std::uint64_t* last_pos);

  store::Db* db_;
  store::Stmt find_device_, add_device_, find_record_, add_record_, insert_op_, find_op_,
      exists_op_, by_origin_, after_, last_seq_, count_, record_count_;
  std::unordered_map<std::string, std::int64_t> devices_;
  std::unordered_map<std::string, std::int64_t> records_;
};

// The stored form of a base (empty bases are stored as NULL).
std::string encode_base(const std::vector<OpId>& base);

}  // namespace vs::changelog
