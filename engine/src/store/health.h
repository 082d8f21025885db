// What a store knows of its own damage, across processes and crashes.
//
// Damage seen once (Db::damage()) is kept in a marker file beside the store, `<store>-damaged`,
// holding the first report; while it is there every later connection refuses writes too.
// Repairing a store moves it aside together with its marker. A store whose last connection
// did not close cleanly (its WAL was left behind) gets SQLite's quick check when it opens.
#pragma once

#include <string>

#include <visitsync/status.h>

#include "store/db.h"

namespace vs::store {

std::string damage_marker_path(const std::string& store_path);

// Notes the marker's report on `db`, if there is a marker. Fails only if it cannot be read.
Status load_damage_marker(Db& db);
// Writes the marker when `db` has seen damage and no marker is there yet. Best effort: the
// damage will be found again by the next read of the damaged rows.
void save_damage_marker(Db& db);

// The schema (every table and index: its name, root page and SQL) has a checksum too, kept in
// meta('schema_crc'): a damaged schema would make statements fail with "no such column" or read
// another table's pages. seal_schema() records it (inside each migration's transaction);
// check_schema() compares, kDamaged when they differ (not noted on `db`: the caller decides).
Status seal_schema(Db& db);
Status check_schema(Db& db);

// SQLite's checks of the file's structure: PRAGMA integrity_check when `full`, quick_check
// (no index cross-checks, linear in the file) otherwise. OK, or kDamaged with the first
// findings, noted on `db`.
Status check_store(Db& db, bool full);

}  // namespace vs::store
