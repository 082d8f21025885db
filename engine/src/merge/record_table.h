// The `records` table: one row per record with its merged state (RecordState) and the number
// of its flagged fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <visitsync/types.h>

#include "merge/record_state.h"
#include "store/db.h"

namespace vs::merge {

class RecordTable {
 public:
  static Result<RecordTable> create(store::Db& db);

  struct Loaded {
    std::int64_t idx = 0;
    RecordState state;
  };
  // The record's row, or nullopt if there is none.
  Result<std::optional<Loaded>> load(std::string_view key);
  // Adds an empty record; returns its idx.
  Result<std::int64_t> insert(std::string_view key);
  Status save(std::int64_t idx, const RecordState& state);

  // Flagged fields, sorted by record key then field; of one record when `key` is given.
  Result<std::vector<Conflict>> conflicts(std::optional<std::string_view> key);
  Result<std::uint64_t> conflict_count();
  // Keys of records with at least one field, starting with `prefix`, sorted.
  Result<std::vector<std::string>> keys_with_prefix(std::string_view prefix);
  Result<std::uint64_t> count();
  // SHA-256 (hex) over every field's digest form, in (record key, field) order.
  Result<std::string> digest();

 private:
  explicit RecordTable(store::Db& db) : db_(&db) {}
  store::Db* db_;
  store::Stmt load_, insert_, save_, conflicted_, conflict_count_, prefix_, count_, all_;
};

}  // namespace vs::merge
