// The disk refusing a write: an SQLite VFS that wraps the default one and fails the k-th write
// or fsync from the moment it is armed (SQLITE_IOERR_WRITE / _FSYNC, as a failing flash card
// would). A VFS rather than an LD_PRELOAD wrapper: it sees exactly SQLite's own calls, main
// file and WAL alike, in this process, without touching anything else the test does. Each call
// that meets the failure returns kIo with a message; every write that returned OK before it is
// there after a reopen, the store passes its integrity check, and writes go on.
#include <atomic>
#include <cstring>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <visitsync/engine.h>

#include "support/test_support.h"

using namespace vs;

namespace {

// What the faulty VFS does: count writes (or syncs) and fail the one numbered `fail_at`.
struct Fault {
  std::atomic<int> countdown{-1};  // calls left before the failing one; -1: disarmed
  std::atomic<bool> on_sync{false};
  std::atomic<int> injected{0};
  bool hit() {
    int left = countdown.load();
    while (left >= 0) {
      if (countdown.compare_exchange_weak(left, left - 1)) {
        if (left != 0) return false;
        ++injected;
        return true;
      }
    }
    return false;
  }
};
Fault fault;

sqlite3_vfs* real = nullptr;

// A file of the faulty VFS: the real file's methods, with write and sync failing on cue.
struct FaultyFile {
  sqlite3_file base;
  sqlite3_file* real_file;
};

sqlite3_file* inner(sqlite3_file* f) { return reinterpret_cast<FaultyFile*>(f)->real_file; }

int f_close(sqlite3_file* f) {
  const int rc = inner(f)->pMethods->xClose(inner(f));
  sqlite3_free(inner(f));
  return rc;
}
int f_read(sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
  return inner(f)->pMethods->xRead(inner(f), b, n, o);
}
int f_write(sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
  if (!fault.on_sync && fault.hit()) return SQLITE_IOERR_WRITE;
  return inner(f)->pMethods->xWrite(inner(f), b, n, o);
}
int f_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return inner(f)->pMethods->xTruncate(inner(f), size);
}
int f_sync(sqlite3_file* f, int flags) {
  if (fault.on_sync && fault.hit()) return SQLITE_IOERR_FSYNC;
  return inner(f)->pMethods->xSync(inner(f), flags);
}
int f_size(sqlite3_file* f, sqlite3_int64* size) {
  return inner(f)->pMethods->xFileSize(inner(f), size);
}
int f_lock(sqlite3_file* f, int l) { return inner(f)->pMethods->xLock(inner(f), l); }
int f_unlock(sqlite3_file* f, int l) { return inner(f)->pMethods->xUnlock(inner(f), l); }
int f_check(sqlite3_file* f, int* out) {
  return inner(f)->pMethods->xCheckReservedLock(inner(f), out);
}
int f_control(sqlite3_file* f, int op, void* arg) {
  return inner(f)->pMethods->xFileControl(inner(f), op, arg);
}
int f_sector(sqlite3_file* f) { return inner(f)->pMethods->xSectorSize(inner(f)); }
int f_caps(sqlite3_file* f) { return inner(f)->pMethods->xDeviceCharacteristics(inner(f)); }
int f_shm_map(sqlite3_file* f, int pg, int sz, int extend, void volatile** p) {
  return inner(f)->pMethods->xShmMap(inner(f), pg, sz, extend, p);
}
int f_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return inner(f)->pMethods->xShmLock(inner(f), offset, n, flags);
}
void f_shm_barrier(sqlite3_file* f) { inner(f)->pMethods->xShmBarrier(inner(f)); }
int f_shm_unmap(sqlite3_file* f, int del) { return inner(f)->pMethods->xShmUnmap(inner(f), del); }

const sqlite3_io_methods kMethods = {
    2,          f_close,       f_read,      f_write,   f_truncate, f_sync, f_size,
    f_lock,     f_unlock,      f_check,     f_control, f_sector,   f_caps, f_shm_map,
    f_shm_lock, f_shm_barrier, f_shm_unmap, nullptr,   nullptr};

int v_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out) {
  auto* ff = reinterpret_cast<FaultyFile*>(f);
  ff->base.pMethods = nullptr;
  ff->real_file = static_cast<sqlite3_file*>(sqlite3_malloc(real->szOsFile));
  if (ff->real_file == nullptr) return SQLITE_NOMEM;
  std::memset(ff->real_file, 0, static_cast<std::size_t>(real->szOsFile));
  const int rc = real->xOpen(real, name, ff->real_file, flags, out);
  if (rc != SQLITE_OK || ff->real_file->pMethods == nullptr) {
    sqlite3_free(ff->real_file);
    return rc;
  }
  ff->base.pMethods = &kMethods;
  return SQLITE_OK;
}

sqlite3_vfs faulty{};

// Installs the faulty VFS as the default, once: every store the test opens goes through it.
void install() {
  if (real != nullptr) return;
  real = sqlite3_vfs_find(nullptr);
  faulty = *real;
  faulty.zName = "visitsync-faulty";
  faulty.szOsFile = static_cast<int>(sizeof(FaultyFile));
  faulty.xOpen = v_open;
  faulty.pNext = nullptr;
  REQUIRE(sqlite3_vfs_register(&faulty, 1) == SQLITE_OK);
}

Write answer(std::uint64_t i) {
  return Write{"io/" + std::to_string(i / 20), "f" + std::to_string(i % 20), Policy::kLww,
               Value::integer(static_cast<std::int64_t>(i)), 0};
}

}  // namespace

TEST_CASE(
    "a failing write or fsync fails its call with kIo, loses nothing acknowledged, and "
    "writes go on",
    "[engine][io][faults]") {
  install();
  test::TempDir dir;
  const std::string path = dir.file("io.db");
  Options o;
  o.device_id = "dev-io";
  std::uint64_t next = 1;
  std::vector<std::uint64_t> acknowledged;
  for (const bool on_sync : {false, true}) {
    for (int k = 0; k < 12; ++k) {
      INFO((on_sync ? "fsync " : "write ") << k);
      Result<std::unique_ptr<Engine>> e = Engine::open(path, o);
      REQUIRE(e.ok());
      fault.on_sync = on_sync;
      fault.countdown = k;
      Status failed;
      for (int tries = 0; tries < 200 && failed.ok(); ++tries) {
        const std::uint64_t i = next++;
        failed = e.value()->write(answer(i)).status();
        if (failed.ok()) acknowledged.push_back(i);
      }
      fault.countdown = -1;
      REQUIRE_FALSE(failed.ok());
      CHECK(failed.code() == Code::kIo);
      CHECK_THAT(failed.message(), Catch::Contains("I/O error"));
      // The same engine writes on.
      const std::uint64_t after = next++;
      REQUIRE(e.value()->write(answer(after)).ok());
      acknowledged.push_back(after);
    }
  }
  CHECK(fault.injected == 24);
  Result<std::unique_ptr<Engine>> e = Engine::open(path, o);
  REQUIRE(e.ok());
  REQUIRE(e.value()->check_integrity().ok());
  for (const std::uint64_t i : acknowledged) {
    const Write w = answer(i);
    Result<std::optional<FieldView>> f = e.value()->read_field(w.record, w.field);
    REQUIRE(f.ok());
    REQUIRE(f->has_value());
    // A later write to the same field may have won; never an older one.
    CHECK((*f)->value.as_integer() >= static_cast<std::int64_t>(i));
  }
  // The op log holds every acknowledged write once, seqs without a gap.
  Result<std::vector<Op>> ops = e.value()->ops_after(0, 100'000);
  REQUIRE(ops.ok());
  for (std::size_t k = 0; k < ops->size(); ++k) REQUIRE(ops->at(k).id.seq == k + 1);
  CHECK(ops->size() >= acknowledged.size());
}
