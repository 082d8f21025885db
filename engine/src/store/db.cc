#include "store/db.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "util/crc32c.h"

namespace vs::store {
namespace {

std::atomic<bool> g_row_hashing{true};

// vs_crc(a, b, ...): RowCrc over its arguments.
void sql_vs_crc(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  RowCrc crc;
  for (int i = 0; i < argc; ++i) {
    switch (sqlite3_value_type(argv[i])) {
      case SQLITE_INTEGER:
        crc.integer(sqlite3_value_int64(argv[i]));
        break;
      case SQLITE_FLOAT:
        crc.real(sqlite3_value_double(argv[i]));
        break;
      case SQLITE_TEXT:
      case SQLITE_BLOB: {
        const auto* p = static_cast<const char*>(sqlite3_value_blob(argv[i]));
        crc.bytes(std::string_view(p, static_cast<std::size_t>(sqlite3_value_bytes(argv[i]))));
        break;
      }
      default:
        crc.null();
    }
  }
  sqlite3_result_int64(ctx, crc.value());
}

}  // namespace

bool disk_full(sqlite3* db, int rc) {
  if ((rc & 0xFF) == SQLITE_FULL) return true;
  return (rc & 0xFF) == SQLITE_IOERR && db != nullptr && sqlite3_system_errno(db) == ENOSPC;
}

Status sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  if (disk_full(db, rc)) {
    // One message wherever it happens: SQLite's own ("database or disk is full", or a bare
    // "disk I/O error") does not say which, nor what to do.
    return Status::io(msg + "the disk is full (nothing was stored; free some space and try again)");
  }
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : nullptr;
  msg += detail != nullptr && sqlite3_errcode(db) == rc ? detail : sqlite3_errstr(rc);
  switch (rc & 0xFF) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::damaged(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::unavailable(std::move(msg));
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Status::io(std::move(msg));
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
      return Status::invalid_input(std::move(msg));
    default:
      return Status::internal(std::move(msg));
  }
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_.get(), i, v);
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  sqlite3_bind_double(stmt_.get(), i, v);
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view text) {
  sqlite3_bind_text64(stmt_.get(), i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Stmt& Stmt::bind_blob(int i, const void* data, std::size_t size) {
  // A zero-length blob still binds as a blob, not NULL, when data is non-null.
  static const char kEmpty = 0;
  sqlite3_bind_blob64(stmt_.get(), i, size == 0 ? &kEmpty : data, size, SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_text_static(int i, std::string_view text) {
  sqlite3_bind_text64(stmt_.get(), i, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  return *this;
}

Stmt& Stmt::bind_blob_static(int i, std::string_view bytes) {
  static const char kEmpty = 0;
  sqlite3_bind_blob64(stmt_.get(), i, bytes.empty() ? &kEmpty : bytes.data(), bytes.size(),
                      SQLITE_STATIC);
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(stmt_.get(), i);
  return *this;
}

Result<bool> Stmt::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = db_->fail(rc, name_);
  reset();
  return s;
}

Status Stmt::run() {
  Result<bool> r = step();
  reset();
  if (!r.ok()) return r.status();
  return Status();
}

void Stmt::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::string_view Stmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), col));
  const int n = sqlite3_column_bytes(stmt_.get(), col);
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(n));
}

std::string_view Stmt::blob(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_.get(), col));
  const int n = sqlite3_column_bytes(stmt_.get(), col);
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(n));
}

void set_row_hashing(bool on) { g_row_hashing.store(on, std::memory_order_relaxed); }

RowCrc::RowCrc() : on_(g_row_hashing.load(std::memory_order_relaxed)) {}

void RowCrc::head(unsigned char kind, std::uint64_t v) {
  if (!on_) return;
  unsigned char cell[9];
  cell[0] = kind;
  for (int b = 0; b < 8; ++b) cell[1 + b] = static_cast<unsigned char>(v >> (8 * b));
  crc_ = util::crc32c(crc_, cell, sizeof cell);
}

RowCrc& RowCrc::integer(std::int64_t v) {
  head(1, static_cast<std::uint64_t>(v));
  return *this;
}

RowCrc& RowCrc::real(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  head(2, bits);
  return *this;
}

RowCrc& RowCrc::bytes(std::string_view b) {
  head(3, b.size());
  if (on_ && !b.empty()) crc_ = util::crc32c(crc_, b);
  return *this;
}

RowCrc& RowCrc::null() {
  const unsigned char kind = 0;
  if (on_) crc_ = util::crc32c(crc_, &kind, 1);
  return *this;
}

Status sum_failed(const Stmt& st, std::string_view what) {
  Status s = Status::damaged(std::string(what) + " fails its checksum");
  if (st.db() != nullptr) st.db()->note_damage(s.message());
  return s;
}

Status check_sum(const Stmt& st, int col, std::string_view what) {
  return sum_ok(st, col) ? Status() : sum_failed(st, what);
}

Result<bool> step_checked(Stmt& st, int col, std::string_view what) {
  Result<bool> row = st.step();
  if (!row.ok() || !row.value()) return row;
  if (Status s = check_sum(st, col, what); !s.ok()) {
    st.reset();
    return s;
  }
  return true;
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path, bool create) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  // sqlite3_open_v2 returns a handle even on failure: own it first, then check rc.
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) return sqlite_error(raw, rc, "opening " + path);
  sqlite3_extended_result_codes(raw, 1);
  const int fn = sqlite3_create_function_v2(raw, "vs_crc", -1,
                                            SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                            nullptr, sql_vs_crc, nullptr, nullptr, nullptr);
  if (fn != SQLITE_OK) return sqlite_error(raw, fn, "opening " + path + ": adding vs_crc");
  return std::unique_ptr<Db>(new Db(std::move(db), path));
}

Status Db::exec(std::string_view sql, std::string_view what) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);  // the same text is available from sqlite3_errmsg
  if (rc != SQLITE_OK) return fail(rc, what);
  return Status();
}

Status Db::fail(int rc, std::string_view what) {
  Status s = sqlite_error(db_.get(), rc, what);
  if (s.code() == Code::kDamaged) note_damage(s.message());
  return s;
}

Result<Stmt> Db::prepare(std::string_view sql, std::string name) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return fail(rc, "preparing " + name);
  }
  return Stmt(this, raw, std::move(name));
}

Status Db::begin() {
  if (depth_ == 0 && !damage_.empty()) {
    return {Code::kDamaged, damage_ + " (" + path_ + " takes no more writes until it is repaired)"};
  }
  Status s = depth_ == 0 ? exec("BEGIN IMMEDIATE", "beginning a transaction")
                         : exec("SAVEPOINT vs_nested", "beginning a savepoint");
  if (s.ok()) ++depth_;
  return s;
}

Status Db::commit() {
  if (depth_ == 0) return Status::internal("commit without a transaction");
  Status s = depth_ == 1 ? exec("COMMIT", "committing") : exec("RELEASE vs_nested", "releasing");
  if (!s.ok()) {
    rollback_quietly();
    return s;
  }
  --depth_;
  return s;
}

void Db::rollback_quietly() noexcept {
  if (depth_ == 0) return;
  if (depth_ == 1) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  } else {
    // Undo the savepoint's work, then drop it: the outer transaction continues.
    sqlite3_exec(db_.get(), "ROLLBACK TO vs_nested; RELEASE vs_nested", nullptr, nullptr, nullptr);
  }
  --depth_;
}

Result<Txn> Txn::begin(Db& db) {
  if (Status s = db.begin(); !s.ok()) return s;
  return Txn(&db);
}

Status Txn::commit() {
  Db* db = db_;
  db_ = nullptr;
  if (db == nullptr) return Status::internal("transaction committed twice");
  return db->commit();
}

}  // namespace vs::store
