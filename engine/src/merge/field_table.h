// The `fields` table: the merged state of every field, one row each, with its conflict flag.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <visitsync/types.h>

#include "merge/field_state.h"
#include "store/db.h"

namespace vs::merge {

class FieldTable {
 public:
  static Result<FieldTable> create(store::Db& db);

  Result<std::optional<FieldState>> load(std::int64_t record, std::string_view field);
  Status save(std::int64_t record, std::string_view field, const FieldState& state);
  // Every field of a record, sorted by name.
  Result<std::vector<std::pair<std::string, FieldState>>> of_record(std::int64_t record);
  // Flagged fields, sorted by record key then field; of one record when given.
  Result<std::vector<Conflict>> conflicts(std::optional<std::int64_t> record);
  Result<std::uint64_t> conflict_count();
  // SHA-256 (hex) over every field's digest form, in (record key, field) order.
  Result<std::string> digest();

 private:
  explicit FieldTable(store::Db& db) : db_(&db) {}
  store::Db* db_;
  store::Stmt load_, save_, of_record_, conflicts_all_, conflicts_of_, conflict_count_, digest_;
};

}  // namespace vs::merge
