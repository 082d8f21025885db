#include "store/health.h"

#include <cerrno>
#include <sys/stat.h>

#include "util/files.h"

namespace vs::store {
namespace {

// A marker holds one report; a longer file is not one this build wrote.
constexpr std::uintmax_t kMaxMarkerBytes = 4096;

}  // namespace

std::string damage_marker_path(const std::string& store_path) { return store_path + "-damaged"; }

Status load_damage_marker(Db& db) {
  const std::string path = damage_marker_path(db.path());
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status();
    return util::errno_error(errno, path);
  }
  Result<std::string> text = util::read_regular_file(path, kMaxMarkerBytes);
  if (!text.ok()) {
    // Present but unreadable, or not a marker: the store still counts as damaged.
    db.note_damage("store damaged: " + path + " is there but cannot be read");
    return Status();
  }
  std::string report = text.value();
  while (!report.empty() && report.back() == '\n') report.pop_back();
  db.note_damage(report.empty() ? "store damaged: " + path + " says so" : report);
  return Status();
}

void save_damage_marker(Db& db) {
  if (db.damage().empty()) return;
  const std::string path = damage_marker_path(db.path());
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) return;
  (void)util::replace_file(path, db.damage() + "\n", 0644);
}

namespace {

// vs_crc over the schema's rows (tables and indexes), in name order.
constexpr const char* kSchemaCrc =
    "SELECT vs_crc(group_concat(type || ':' || name || ':' || tbl_name || ':' || rootpage || ':' "
    "|| coalesce(sql, ''), char(10))) AS c FROM (SELECT * FROM sqlite_schema ORDER BY name)";

}  // namespace

Status seal_schema(Db& db) {
  return db.exec(std::string("INSERT INTO meta(key, value, crc) SELECT 'schema_crc', c, "
                             "vs_crc('schema_crc', c) FROM (") +
                     kSchemaCrc +
                     // "WHERE true": an upsert's SELECT needs a WHERE (SQLite's grammar).
                     ") WHERE true ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                     "crc = excluded.crc",
                 "recording the schema's checksum");
}

Status check_schema(Db& db) {
  Result<Stmt> st = db.prepare(std::string("SELECT (") + kSchemaCrc +
                                   ") = value, crc = vs_crc(key, value) FROM meta "
                                   "WHERE key = 'schema_crc'",
                               "schema checksum");
  if (!st.ok()) return st.status();
  Result<bool> row = st->step();
  if (!row.ok()) return row.status();
  const bool sound = row.value() && !st->is_null(0) && st->int64(0) == 1 && st->int64(1) == 1;
  st->reset();
  if (sound) return Status();
  return Status::damaged(db.path() + ": the store's schema fails its checksum");
}

Status check_store(Db& db, bool full) {
  const char* what = full ? "integrity check" : "quick check";
  Result<Stmt> st =
      db.prepare(full ? "PRAGMA integrity_check(20)" : "PRAGMA quick_check(20)", what);
  if (!st.ok()) return st.status();
  std::string findings;
  for (;;) {
    Result<bool> row = st->step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    if (st->text(0) == "ok") continue;
    if (!findings.empty()) findings += "; ";
    findings += std::string(st->text(0));
  }
  if (findings.empty()) return Status();
  Status s = Status::damaged(db.path() + " fails SQLite's " + what + ": " + findings);
  db.note_damage(s.message());
  return s;
}

}  // namespace vs::store
