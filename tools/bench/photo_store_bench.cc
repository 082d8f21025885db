// visitsync-bench photo-store: where a photo's bytes should live, measured (README.md,
// "Photos"). --photos (20) files of --photo-kb (300) arrive in 16 KiB chunks, each chunk made
// durable before the next, as a transfer stores them: (a) the photo store's files
// (PhotoStore::append: the chunk synced, the file renamed into place when whole), (b) one
// SQLite file in WAL mode with synchronous=FULL, a transaction a chunk, checkpointed at the
// end. Then every photo is read back whole. Prints the time of each, and the bytes each made
// the kernel write (/proc/self/io write_bytes), as the last line of JSON.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <sqlite3.h>

#include <visitsync/photos.h>

#include "bench.h"

namespace vs::bench {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The bytes this process has caused to be written to storage so far (0 when unknown).
std::uint64_t written_bytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::uint64_t value = 0;
  while (io >> key >> value)
    if (key == "write_bytes:") return value;
  return 0;
}

Status sql(sqlite3* db, const char* text) {
  char* err = nullptr;
  if (sqlite3_exec(db, text, nullptr, nullptr, &err) == SQLITE_OK) return Status();
  Status s = Status::io(std::string(text) + ": " + (err != nullptr ? err : "?"));
  sqlite3_free(err);
  return s;
}

struct Figures {
  double write_s = 0;
  std::uint64_t written = 0;
  double read_s = 0;
};

Result<Figures> into_files(const std::string& dir, const std::vector<std::string>& photos) {
  Result<std::unique_ptr<PhotoStore>> store = PhotoStore::open(dir);
  if (!store.ok()) return store.status();
  Figures f;
  const std::uint64_t w0 = written_bytes();
  const auto t0 = Clock::now();
  for (const std::string& bytes : photos) {
    const std::string id = sha256_hex(bytes);
    const PhotoManifest m = manifest_of(bytes);
    for (std::uint64_t at = 0; at < bytes.size(); at += kPhotoChunkBytes) {
      Result<std::uint64_t> r =
          store.value()->append(id, m, at, std::string_view(bytes).substr(at, kPhotoChunkBytes));
      if (!r.ok()) return r.status();
    }
  }
  f.write_s = since(t0);
  f.written = written_bytes() - w0;
  const auto t1 = Clock::now();
  for (const std::string& bytes : photos) {
    Result<std::string> back = store.value()->read_all(sha256_hex(bytes));
    if (!back.ok() || back.value() != bytes) return Status::internal("a photo file differs");
  }
  f.read_s = since(t1);
  return f;
}

Result<Figures> into_sqlite(const std::string& path, const std::vector<std::string>& photos) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return Status::io("cannot open " + path);
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, sqlite3_close);
  for (const char* s : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                        "CREATE TABLE chunks(id TEXT, offset INTEGER, data BLOB, "
                        "PRIMARY KEY(id, offset)) WITHOUT ROWID"}) {
    if (Status st = sql(db, s); !st.ok()) return st;
  }
  sqlite3_stmt* put = nullptr;
  sqlite3_stmt* get = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO chunks VALUES(?1, ?2, ?3)", -1, &put, nullptr);
  sqlite3_prepare_v2(db, "SELECT data FROM chunks WHERE id = ?1 ORDER BY offset", -1, &get,
                     nullptr);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> put_done(put, sqlite3_finalize);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> get_done(get, sqlite3_finalize);
  if (put == nullptr || get == nullptr) return Status::io(sqlite3_errmsg(db));
  Figures f;
  const std::uint64_t w0 = written_bytes();
  const auto t0 = Clock::now();
  for (const std::string& bytes : photos) {
    const std::string id = sha256_hex(bytes);
    for (std::uint64_t at = 0; at < bytes.size(); at += kPhotoChunkBytes) {
      const std::string_view chunk = std::string_view(bytes).substr(at, kPhotoChunkBytes);
      if (Status s = sql(db, "BEGIN"); !s.ok()) return s;
      sqlite3_bind_text(put, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
      sqlite3_bind_int64(put, 2, static_cast<sqlite3_int64>(at));
      sqlite3_bind_blob(put, 3, chunk.data(), static_cast<int>(chunk.size()), SQLITE_STATIC);
      if (sqlite3_step(put) != SQLITE_DONE) return Status::io(sqlite3_errmsg(db));
      sqlite3_reset(put);
      if (Status s = sql(db, "COMMIT"); !s.ok()) return s;
    }
  }
  // The WAL's pages go into the database too: the second write every byte costs.
  if (Status s = sql(db, "PRAGMA wal_checkpoint(TRUNCATE)"); !s.ok()) return s;
  f.write_s = since(t0);
  f.written = written_bytes() - w0;
  const auto t1 = Clock::now();
  for (const std::string& bytes : photos) {
    const std::string id = sha256_hex(bytes);
    std::string back;
    sqlite3_bind_text(get, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
    while (sqlite3_step(get) == SQLITE_ROW)
      back.append(static_cast<const char*>(sqlite3_column_blob(get, 0)),
                  static_cast<std::size_t>(sqlite3_column_bytes(get, 0)));
    sqlite3_reset(get);
    if (back != bytes) return Status::internal("a photo in SQLite differs");
  }
  f.read_s = since(t1);
  return f;
}

}  // namespace

int run_photo_store_bench(const BenchArgs& args) {
  const std::string dir = args.work_dir + "/photo-store";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  std::mt19937_64 rng(args.seed);
  std::vector<std::string> photos;
  std::uint64_t total = 0;
  for (int i = 0; i < args.photos; ++i) {
    std::string b = "\xFF\xD8\xFF\xE0";  // a JPEG's first bytes, then noise (JPEG data is)
    while (b.size() < static_cast<std::size_t>(args.photo_kb) * 1000)
      b.push_back(static_cast<char>(rng()));
    total += b.size();
    photos.push_back(std::move(b));
  }
  Result<Figures> files = into_files(dir + "/attachments", photos);
  if (!files.ok()) return fail(files.status());
  Result<Figures> db = into_sqlite(dir + "/photos.db", photos);
  if (!db.ok()) return fail(db.status());
  std::filesystem::remove_all(dir, ec);
  JsonOut out;
  out.add("bench", "photo-store");
  out.add("photos", args.photos);
  out.add("photo_bytes", static_cast<double>(total));
  out.add("files_write_s", files->write_s);
  out.add("sqlite_write_s", db->write_s);
  out.add("files_written_bytes", static_cast<double>(files->written));
  out.add("sqlite_written_bytes", static_cast<double>(db->written));
  out.add("files_read_ms", files->read_s * 1000);
  out.add("sqlite_read_ms", db->read_s * 1000);
  out.add("write_ratio_sqlite_to_files", db->write_s / std::max(files->write_s, 1e-9));
  std::printf("%s\n", out.str().c_str());
  return 0;
}

}  // namespace vs::bench
