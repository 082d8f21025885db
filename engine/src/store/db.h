// Small RAII wrappers over SQLite: a connection, prepared statements and transactions.
//
// Every failure becomes a Status that names the statement or file and carries SQLite's message.
// SQLITE_CORRUPT and SQLITE_NOTADB map to kDamaged, SQLITE_BUSY to kUnavailable, disk and file
// errors to kIo, misuse to kInternal.
//
// Every row of the store carries a checksum in its `crc` column: vs_crc(...) of its cells, a SQL
// function every connection has (CRC32C, util/crc32c.h). Writes compute it in their statement;
// reads select `crc = vs_crc(...)` beside the row and pass that column to check_sum().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include <visitsync/status.h>

namespace vs::store {

struct CloseDb {
  void operator()(sqlite3* p) const noexcept { sqlite3_close_v2(p); }
};
using DbHandle = std::unique_ptr<sqlite3, CloseDb>;

struct FinalizeStmt {
  void operator()(sqlite3_stmt* p) const noexcept { sqlite3_finalize(p); }
};

// A Status from an SQLite result code, with the connection's message when there is one.
Status sqlite_error(sqlite3* db, int rc, std::string_view what);

// The failure `rc` (an extended result code) of `db` was the disk having no room: SQLite's
// SQLITE_FULL, or an I/O error whose system error was ENOSPC (creating the -shm file, say).
bool disk_full(sqlite3* db, int rc);

class Db;

// A prepared statement. Binding and column indexes are 1-based / 0-based as in SQLite.
// Move-only; reset after each use so it can run again.
class Stmt {
 public:
  Stmt() = default;
  Stmt(Db* db, sqlite3_stmt* stmt, std::string name)
      : db_(db), stmt_(stmt), name_(std::move(name)) {}

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view text);  // copied by SQLite (SQLITE_TRANSIENT)
  Stmt& bind(int i, const char* text) { return bind(i, std::string_view(text)); }
  Stmt& bind_blob(int i, const void* data, std::size_t size);
  // Binds without copying: the bytes must stay unchanged until the statement has run.
  Stmt& bind_text_static(int i, std::string_view text);
  Stmt& bind_blob_static(int i, std::string_view bytes);
  Stmt& bind_null(int i);

  // Steps once: true with a row, false when done. Errors become a Status.
  Result<bool> step();
  // Steps to completion, expecting no rows. Resets the statement.
  Status run();
  void reset();  // resets and clears bindings

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
  double real(int col) const { return sqlite3_column_double(stmt_.get(), col); }
  std::string_view text(int col) const;
  std::string_view blob(int col) const;  // bytes of a BLOB (or TEXT) column
  bool is_null(int col) const { return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL; }

  const std::string& name() const { return name_; }
  Db* db() const { return db_; }

 private:
  Db* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, FinalizeStmt> stmt_;
  std::string name_;
};

// The checksum of a row, cell by cell: CRC32C over each cell's kind and bytes (integers as 8
// bytes little-endian, reals by their bits, text and blobs as their length, then their
// bytes), so that moving bytes from one cell to the next changes it. vs_crc() is this over its
// arguments; a writer that has the values at hand computes it here and binds it, which spares
// SQLite a function call a row.
class RowCrc {
 public:
  RowCrc();
  RowCrc& integer(std::int64_t v);
  RowCrc& real(double v);
  RowCrc& bytes(std::string_view b);  // TEXT or BLOB
  RowCrc& null();
  // The CRC with bit 32 set, so that every checksum is stored in the same 6 bytes: a row
  // rewritten with a new checksum keeps its size, and SQLite overwrites it in place, writing
  // only the pages that changed. (A size that moved between 4 and 6 bytes made it rewrite a
  // record's whole overflow chain: 1.6x the WAL bytes of a local write.)
  std::int64_t value() const { return on_ ? (std::int64_t{1} << 32) | crc_ : 0; }

 private:
  void head(unsigned char kind, std::uint64_t v);
  bool on_;
  std::uint32_t crc_ = 0;
};

// For visitsync-bench only: off, vs_crc() returns 0 without reading its cells, so that one run
// can measure what the checksums cost (rows written meanwhile hold 0 and read back as sound
// only while it stays off). Process-wide; on by default.
void set_row_hashing(bool on);

// True when column `col` of the current row is 1: its row's checksum matched.
inline bool sum_ok(const Stmt& st, int col) { return !st.is_null(col) && st.int64(col) == 1; }
// kDamaged "store damaged: <what> fails its checksum", noted on the statement's connection.
Status sum_failed(const Stmt& st, std::string_view what);
// OK when sum_ok(), else sum_failed(). Hot paths test sum_ok() first, so that the message is
// made only for a row that fails.
Status check_sum(const Stmt& st, int col, std::string_view what);
// Steps `st` once, as Stmt::step(), then check_sum() on a row (resetting `st` if it fails).
Result<bool> step_checked(Stmt& st, int col, std::string_view what);

class Db {
 public:
  // Opens the file read-write, creating it if `create` is set. Does not check its content.
  static Result<std::unique_ptr<Db>> open(const std::string& path, bool create);
  // The extended result code of this connection's last failure.
  int last_error() const { return sqlite3_extended_errcode(db_.get()); }

  // Runs one or more statements that return no rows.
  Status exec(std::string_view sql, std::string_view what);
  // Prepares a statement kept for the life of the connection.
  Result<Stmt> prepare(std::string_view sql, std::string name);

  // Nesting-aware transactions: the outermost is BEGIN IMMEDIATE (the write lock is taken now,
  // not halfway through) and COMMIT; inner ones are savepoints. kDamaged once damage() is set.
  Status begin();
  Status commit();
  void rollback_quietly() noexcept;
  int depth() const { return depth_; }

  // The first damage this connection saw: a failed checksum, SQLite's corruption error, a
  // failed check or a marker left by an earlier process (store/health.h); empty if none. Once
  // set, begin() refuses: nothing more is written into a store known to be damaged.
  const std::string& damage() const { return damage_; }
  void note_damage(std::string_view what) {
    if (damage_.empty()) damage_ = std::string(what);
  }
  // sqlite_error() for this connection, noting damage when it is SQLite's corruption error.
  Status fail(int rc, std::string_view what);

  std::int64_t changes() const { return sqlite3_changes64(db_.get()); }
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }
  sqlite3* raw() { return db_.get(); }
  const std::string& path() const { return path_; }

 private:
  Db(DbHandle db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}
  DbHandle db_;
  std::string path_;
  std::string damage_;
  int depth_ = 0;
};

// A transaction (or savepoint) that rolls back unless committed. Move-only.
class Txn {
 public:
  static Result<Txn> begin(Db& db);
  Txn(Txn&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Txn& operator=(Txn&&) = delete;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() {
    if (db_ != nullptr) db_->rollback_quietly();
  }
  Status commit();  // the destructor then does nothing

 private:
  explicit Txn(Db* db) : db_(db) {}
  Db* db_;
};

}  // namespace vs::store
