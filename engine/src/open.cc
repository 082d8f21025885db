// Engine::open: a store's files checked before SQLite touches them, migrations, the schema's
// checksum, the device id, SQLite's quick check and the damage marker (engine.h).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

#include <visitsync/engine.h>

#include "engine_impl.h"
#include "store/health.h"
#include "store/migrations.h"
#include "util/files.h"

namespace vs {
namespace {

constexpr char kSqliteMagic[] = "SQLite format 3";  // with its NUL, the first 16 bytes

// Refuses a file that exists, is not empty and is not an SQLite database, before SQLite (or
// the WAL switch) touches it.
Status check_header(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status();  // missing: SQLite reports it, or creates it
  char head[16] = {};
  const std::size_t n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  if (n == 0) return Status();
  if (n < sizeof head || std::memcmp(head, kSqliteMagic, sizeof head) != 0) {
    return Status::invalid_input(path + ": not a visitsync store (not an SQLite database)");
  }
  return Status();
}

// What is at a store's path, before anything opens it: nothing, or regular files (the store
// and its -wal, -shm and -journal files). An open of a FIFO blocks until a writer comes, and
// a device or a folder is no store. `bytes`: the store's and its WAL's size (0 if absent).
struct StoreFiles {
  bool exists = false;
  std::uintmax_t bytes = 0;
  bool unclean = false;  // a WAL was left behind: the last connection did not close cleanly
};
Result<StoreFiles> store_files(const std::string& path) {
  StoreFiles out;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string p = path + suffix;
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return util::errno_error(errno, p);
    }
    if (!S_ISREG(st.st_mode))
      return Status::invalid_input(p + " is not a regular file (a store is one)");
    if (*suffix == '\0') out.exists = true;
    if (*suffix == '\0' || std::string_view(suffix) == "-wal")
      out.bytes += static_cast<std::uintmax_t>(st.st_size);
    if (std::string_view(suffix) == "-wal" && st.st_size > 0) out.unclean = true;
  }
  return out;
}

Status check_device_id(std::string_view id) {
  Op probe;
  probe.id = OpId{std::string(id), 1};
  probe.hlc = 1;
  probe.record = "r";
  probe.field = "f";
  return probe.check().annotate("device id '" + std::string(id) + "'");
}

// A connection to the store whose identity (application id) has been read: the first read
// of the file, where SQLite sets up its WAL index. `exclusive`: that index in this process's
// memory, no -shm file. `*no_room`: it failed for want of disk space.
Result<std::unique_ptr<store::Db>> open_connection(const std::string& path, const Options& options,
                                                   bool exclusive, bool* no_room) {
  *no_room = false;
  Result<std::unique_ptr<store::Db>> opened = store::Db::open(path, options.create_if_missing);
  if (!opened.ok()) return opened.status();
  store::Db& db = *opened.value();
  sqlite3_busy_timeout(db.raw(), options.busy_timeout_ms);
  if (exclusive) {
    if (Status s = db.exec("PRAGMA locking_mode = EXCLUSIVE", path + ": exclusive locking");
        !s.ok()) {
      return s;
    }
  }
  if (Status s = store::check_store_identity(db); !s.ok()) {
    *no_room = store::disk_full(db.raw(), db.last_error());
    return s;
  }
  return opened;
}

}  // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() { store::save_damage_marker(*impl_->db); }

Result<std::unique_ptr<Engine>> Engine::open(const std::string& path, const Options& options) {
  Result<StoreFiles> files = store_files(path);
  if (!files.ok()) return files.status();
  if (!options.create_if_missing && !files->exists) {
    return Status::not_found(path + ": no such store");
  }
  // Refused before SQLite writes a schema into the path.
  if (files->bytes == 0 && options.device_id.empty()) {
    return Status::invalid_input(files->exists ? path + " is an empty file, not a visitsync store"
                                               : "a new store needs a device id");
  }
  if (Status s = check_header(path); !s.ok()) return s;
  bool no_room = false;
  Result<std::unique_ptr<store::Db>> opened = open_connection(path, options, false, &no_room);
  if (!opened.ok() && no_room) {
    // No room for the -shm file SQLite's WAL index lives in: the store opens with that index
    // in this process's memory instead (exclusive locking), so that a full disk can still be
    // read, exported and, once there is room, written. Other processes wait while it is open.
    Result<std::unique_ptr<store::Db>> exclusive = open_connection(path, options, true, &no_room);
    if (exclusive.ok()) opened = std::move(exclusive);
  }
  if (!opened.ok()) return opened.status();
  store::Db& db = *opened.value();
  const std::string sync = options.durability == Durability::kFull ? "FULL" : "NORMAL";
  if (Status s = db.exec(
          "PRAGMA journal_mode = WAL; PRAGMA synchronous = " + sync + "; PRAGMA foreign_keys = ON",
          path + ": setting up the connection");
      !s.ok()) {
    return s;
  }
  if (Status s = store::migrate_store(db); !s.ok()) return s.annotate(path);
  // Before any statement of this open reads a table the schema may have misdescribed.
  const Status schema = store::check_schema(db);
  if (!schema.ok() && !options.salvage) return schema;

  Result<changelog::OpLog> log = changelog::OpLog::create(db);
  if (!log.ok()) return log.status();
  Result<merge::RecordTable> records = merge::RecordTable::create(db);
  if (!records.ok()) return records.status();
  Clock* wall = options.clock != nullptr ? options.clock : &system_clock();
  auto impl = std::make_unique<Impl>(std::move(opened.value()), std::move(log.value()),
                                     std::move(records.value()),
                                     clock::HybridClock(*wall, 0, kMaxClockLeadMs));
  impl->wall = wall;
  struct Spec {
    store::Stmt* stmt;
    const char* sql;
    const char* name;
  };
  // The small key-value tables are read by a scan, not through their index: an index entry
  // damaged where it still sorts in place would make a row read as absent, which no row
  // checksum sees. They hold tens of rows (settings: a few per refused op).
  const Spec specs[] = {
      {&impl->load_hlc,
       "SELECT value, crc = vs_crc(key, value) FROM meta NOT INDEXED WHERE key = 'hlc'",
       "load clock"},
      {&impl->save_hlc,
       "INSERT INTO meta(key, value, crc) VALUES('hlc', ?1, vs_crc('hlc', ?1)) "
       "ON CONFLICT(key) DO UPDATE SET value = excluded.value, crc = excluded.crc",
       "save clock"},
      {&impl->get_counter,
       "SELECT value, crc = vs_crc(name, value) FROM counters NOT INDEXED WHERE name = ?1",
       "read counter"},
      {&impl->get_setting,
       "SELECT value, crc = vs_crc(name, value) FROM settings NOT INDEXED WHERE name = ?1",
       "read setting"},
      {&impl->put_setting,
       "INSERT INTO settings(name, value, crc) VALUES(?1, ?2, vs_crc(?1, ?2)) "
       "ON CONFLICT(name) DO UPDATE SET value = excluded.value, crc = excluded.crc",
       "write setting"},
      {&impl->put_counter,
       "INSERT INTO counters(name, value, crc) VALUES(?1, ?2, vs_crc(?1, ?2)) "
       "ON CONFLICT(name) DO UPDATE SET value = excluded.value, crc = excluded.crc",
       "write counter"},
  };
  for (const Spec& s : specs) {
    Result<store::Stmt> st = impl->db->prepare(s.sql, s.name);
    if (!st.ok()) return st.status();
    *s.stmt = std::move(st.value());
  }

  // The device id: recorded at creation, checked afterwards.
  Impl& im = *impl;
  Status s = im.in_txn([&]() -> Status {
    Result<store::Stmt> get = im.db->prepare(
        "SELECT value, crc = vs_crc(key, value) FROM meta NOT INDEXED WHERE key = 'device_id'",
        "device id");
    if (!get.ok()) return get.status();
    Result<bool> row = store::step_checked(*get, 1, "the stored device id");
    if (!row.ok()) return row.status();
    std::string stored = row.value() ? std::string(get->text(0)) : std::string();
    get->reset();
    if (stored.empty()) {
      if (options.device_id.empty()) {
        // A file that held a store before this open and has no device id lost it.
        return files->bytes > 0 ? Status::damaged(path + ": the store holds no device id")
                                : Status::invalid_input("a new store needs a device id");
      }
      if (Status c = check_device_id(options.device_id); !c.ok()) return c;
      Result<store::Stmt> put = im.db->prepare(
          "INSERT INTO meta(key, value, crc) VALUES('device_id', ?1, vs_crc('device_id', ?1))",
          "record device id");
      if (!put.ok()) return put.status();
      put->bind(1, options.device_id);
      if (Status p = put->run(); !p.ok()) return p;
      stored = options.device_id;
    } else if (!options.device_id.empty() && options.device_id != stored) {
      return Status::invalid_input(path + " belongs to device '" + stored + "', not '" +
                                   options.device_id + "'");
    }
    im.device_id = stored;
    // The store's own device is interned first, as idx 1 (the ops_own index relies on it).
    Result<std::int64_t> idx = im.log.device_idx(stored);
    if (!idx.ok()) return idx.status();
    if (idx.value() != changelog::kOwnDeviceIdx) {
      return Status::damaged(path + ": this device is not the store's first device");
    }
    return Status();
  });
  if (!s.ok()) return s;
  // Last, once this open's own transactions are done (a store found damaged takes no writes):
  // the schema's checksum, the marker of damage found earlier, SQLite's checks. A failed check
  // is kept in the marker: the failed open's close checkpoints the WAL, so the next open
  // would not know it should check.
  if (!schema.ok()) db.note_damage(schema.message());
  if (Status m = store::load_damage_marker(db); !m.ok()) return m;
  const bool small = files->bytes <= options.check_bytes;
  if (small || files->unclean || !db.damage().empty()) {
    Status c = store::check_store(db, small);
    store::save_damage_marker(db);
    if (!c.ok() && (c.code() != Code::kDamaged || !options.salvage)) return c;
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

}  // namespace vs
