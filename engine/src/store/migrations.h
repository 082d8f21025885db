// Schema migrations: numbered SQL files from schema/, embedded by CMake, applied in order, once
// each, each in its own transaction together with the version it brings the store to.
#pragma once

#include <string>
#include <vector>

#include <visitsync/status.h>

#include "store/db.h"

namespace vs::store {

struct Migration {
  int version;       // 1, 2, 3 ... without gaps
  const char* name;  // "0001_core"
  const char* sql;
};

// The engine store's migrations (schema/store/), recorded in PRAGMA user_version.
const std::vector<Migration>& store_migrations();
// The hub's own tables (schema/hub/), recorded in meta('hub_schema').
const std::vector<Migration>& hub_migrations();

// Refuses with kInvalidInput an SQLite database of another application, or a store written by
// a newer visitsync; accepts an empty file or a visitsync store. Changes nothing.
Status check_store_identity(Db& db);
// Marks an empty file as a visitsync store (PRAGMA application_id) and applies the pending
// migrations. Requires: check_store_identity() passed.
Status migrate_store(Db& db);

// Applies pending migrations of one named set (hub tables, say) on a store already migrated
// by migrate_store(); the set's version is kept in the meta table under `meta_key`.
Status migrate_set(Db& db, const std::vector<Migration>& set, const std::string& meta_key);

// The 'VSYC' application id written in the header of every visitsync store.
inline constexpr int kApplicationId = 0x56535943;

}  // namespace vs::store
