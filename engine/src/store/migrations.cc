#include "store/migrations.h"

#include <string>

#include "store/health.h"

namespace vs::store {
namespace {

Result<std::int64_t> query_int(Db& db, const std::string& sql, const std::string& what) {
  Result<Stmt> st = db.prepare(sql, what);
  if (!st.ok()) return st.status();
  Result<bool> row = st->step();
  if (!row.ok()) return row.status();
  const std::int64_t v = row.value() ? st->int64(0) : 0;
  st->reset();
  return v;
}

int latest(const std::vector<Migration>& set) { return set.empty() ? 0 : set.back().version; }

// The store migration that gives rows (and meta, which keeps the schema's checksum) a crc.
constexpr int kFirstWithRowCrcs = 4;

// Runs the pending migrations of `set`. `current` reads the recorded version and `record`
// writes a new one; both run inside each migration's transaction, so two processes opening a
// new store at once cannot both apply the same migration.
template <class Current, class Record>
Status apply_pending(Db& db, const std::vector<Migration>& set, Current current, Record record) {
  for (const Migration& m : set) {
    const std::string what = std::string("migration ") + m.name;
    Result<Txn> txn = Txn::begin(db);
    if (!txn.ok()) return txn.status().annotate(what);
    Result<std::int64_t> now = current();
    if (!now.ok()) return now.status().annotate(what);
    if (now.value() >= m.version) continue;  // applied already; the Txn rolls back (no-op)
    if (Status s = db.exec(m.sql, what); !s.ok()) return s;
    if (Status s = record(m.version); !s.ok()) return s.annotate(what);
    if (m.version >= kFirstWithRowCrcs || &set != &store_migrations()) {
      if (Status s = seal_schema(db); !s.ok()) return s.annotate(what);
    }
    if (Status s = txn->commit(); !s.ok()) return s.annotate(what);
  }
  return Status();
}

}  // namespace

Status check_store_identity(Db& db) {
  Result<std::int64_t> app = query_int(db, "PRAGMA application_id", "reading application_id");
  if (!app.ok()) return app.status();
  Result<std::int64_t> version = query_int(db, "PRAGMA user_version", "reading user_version");
  if (!version.ok()) return version.status();
  if (app.value() != kApplicationId) {
    Result<std::int64_t> tables = query_int(db, "SELECT count(*) FROM sqlite_schema", "schema");
    if (!tables.ok()) return tables.status();
    if (app.value() != 0 || tables.value() != 0) {
      return Status::invalid_input(db.path() +
                                   ": not a visitsync store (an SQLite database of another "
                                   "application)");
    }
  }
  const int known = latest(store_migrations());
  if (version.value() > known) {
    return Status::invalid_input(db.path() + ": written by a newer visitsync (store schema " +
                                 std::to_string(version.value()) + ", this build knows up to " +
                                 std::to_string(known) + ")");
  }
  return Status();
}

Status migrate_store(Db& db) {
  auto current = [&] { return query_int(db, "PRAGMA user_version", "reading user_version"); };
  return apply_pending(db, store_migrations(), current, [&](int v) {
    // Both pragmas write the file header inside the open transaction.
    return db.exec("PRAGMA application_id = " + std::to_string(kApplicationId) +
                       "; PRAGMA user_version = " + std::to_string(v),
                   "recording the schema version");
  });
}

Status migrate_set(Db& db, const std::vector<Migration>& set, const std::string& meta_key) {
  Result<std::int64_t> version =
      query_int(db, "SELECT value FROM meta WHERE key = '" + meta_key + "'", "reading " + meta_key);
  if (!version.ok()) return version.status();
  if (version.value() > latest(set)) {
    return Status::invalid_input(db.path() + ": written by a newer visitsync (" + meta_key + " " +
                                 std::to_string(version.value()) + ", this build knows up to " +
                                 std::to_string(latest(set)) + ")");
  }
  auto current = [&] {
    return query_int(db, "SELECT value FROM meta WHERE key = '" + meta_key + "'",
                     "reading " + meta_key);
  };
  return apply_pending(db, set, current, [&](int v) {
    const std::string key = "'" + meta_key + "'";
    const std::string value = std::to_string(v);
    return db.exec(
        "INSERT INTO meta(key, value, crc) VALUES(" + key + ", " + value + ", vs_crc(" + key +
            ", " + value +
            ")) ON CONFLICT(key) DO UPDATE SET value = excluded.value, crc = excluded.crc",
        "recording " + meta_key);
  });
}

}  // namespace vs::store
