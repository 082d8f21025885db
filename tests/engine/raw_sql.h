// SQL run on a store file from a test, as a damaged disk or an older version would leave it.
#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "store/db.h"

namespace vs::test {

// Back to the tables of store version 3, before rows had checksums.
constexpr const char* kBackToVersion3 =
    "ALTER TABLE meta DROP COLUMN crc; ALTER TABLE counters DROP COLUMN crc; "
    "ALTER TABLE devices DROP COLUMN crc; ALTER TABLE field_names DROP COLUMN crc; "
    "ALTER TABLE records DROP COLUMN key_crc; ALTER TABLE records DROP COLUMN crc; "
    "ALTER TABLE ops DROP COLUMN crc; ALTER TABLE settings DROP COLUMN crc; "
    "PRAGMA user_version = 3; ";
// Gives every op log row the checksum of what it holds now.
constexpr const char* kSealOps =
    "UPDATE ops SET crc = vs_crc(device, seq, hlc, record, field, policy, context, value, base, "
    "more, more_ops)";

// Runs `sql` on the file through the store's own connection type, which gives it vs_crc().
inline std::string raw_sql(const std::string& path, const std::string& sql) {
  Result<std::unique_ptr<store::Db>> conn = store::Db::open(path, true);
  REQUIRE(conn.ok());
  sqlite3* db = conn.value()->raw();
  std::string out;
  auto cb = [](void* o, int n, char** vals, char**) {
    auto* s = static_cast<std::string*>(o);
    for (int i = 0; i < n; ++i) *s += (vals[i] != nullptr ? vals[i] : "NULL");
    return 0;
  };
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), cb, &out, &err);
  std::string e = err != nullptr ? err : "";
  sqlite3_free(err);
  INFO(e);
  REQUIRE(rc == SQLITE_OK);
  return out;
}

}  // namespace vs::test
