// repair_store(): a store rebuilt from its sound rows, on real SQLite files.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <visitsync/engine.h>
#include <visitsync/transport/client.h>

#include "session/device_session.h"
#include "support/test_support.h"
#include "wire/messages.h"

using namespace vs;

namespace {

namespace fs = std::filesystem;

// Changes a row behind the engine's back, without its checksum: what bad flash does.
void scribble(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err != nullptr ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

Write note(const std::string& record, int i) {
  return Write{record, "n" + std::to_string(i), Policy::kLww,
               Value::text("note " + std::to_string(i)), 0};
}

// A device store: ten own ops (the first four acknowledged) and a run of another device's.
struct DeviceStore {
  test::TempDir dir;
  test::ManualClock clock;
  std::string path = dir.file("device.db");
  DeviceStore() {
    auto other = test::open_engine(dir, "dev-b", &clock);
    for (int i = 0; i < 3; ++i) REQUIRE(other->write(note("visit/S1/b", i)).ok());
    Result<LogSlice> theirs = other->log_after(0, 100);
    REQUIRE(theirs.ok());
    auto e = open();
    for (int i = 0; i < 10; ++i) REQUIRE(e->write(note("visit/S1/a", i)).ok());
    REQUIRE(e->apply_remote(theirs->ops).ok());
    REQUIRE(e->set_counter(session::kAckedCounter, 4).ok());
    REQUIRE(e->set_setting(session::kCursorSetting, "p=9;s=-").ok());
    REQUIRE(e->set_setting("actor", "I0011").ok());
  }
  std::unique_ptr<Engine> open() { return test::open_engine(dir, "dev-a", &clock, "device.db"); }
};

}  // namespace

TEST_CASE("a repair keeps every sound row and moves the damaged store aside",
          "[transport][repair]") {
  DeviceStore s;
  std::string digest;
  {
    auto e = s.open();
    digest = e->digest().value();
  }
  SECTION("a sound store comes back whole") {
    Result<RepairReport> r = repair_store(s.path, false);
    REQUIRE(r.ok());
    CHECK(r->ops_kept == 13);
    CHECK(r->own_ops_kept == 10);
    CHECK(r->lost.empty());
    CHECK(r->own_unacked_lost.empty());
    CHECK(fs::is_regular_file(r->moved_to));
    auto e = s.open();
    CHECK(e->digest().value() == digest);
    CHECK(e->counter(session::kAckedCounter).value() == 4);
    CHECK(e->setting("actor").value() == "I0011");
    CHECK(e->setting(session::kCursorSetting).value() == "p=9;s=-");  // no refill: kept as is
    CHECK(e->write(note("visit/S1/a", 99))->seq == 11);
  }
  SECTION("damaged rows are reported, and an enrolled device asks for a refill") {
    // Own op 6 (unacknowledged) and own op 2 (acknowledged), and the other device's run.
    scribble(s.path,
             "UPDATE ops SET hlc = hlc + 1 WHERE device = 1 AND seq IN (2, 6); "
             "UPDATE ops SET context = 5 WHERE device != 1");
    Result<RepairReport> r = repair_store(s.path, true);
    REQUIRE(r.ok());
    CHECK(r->own_ops_kept == 8);
    CHECK(r->own_acked_lost == 1);
    CHECK(r->own_unacked_lost == std::vector<std::uint64_t>{6});
    REQUIRE(r->lost.size() == 3);
    CHECK_THAT(r->lost[0], Catch::Contains("fails its checksum") &&
                               Catch::Contains("it reads as op dev-a:2, unverified"));
    auto e = s.open();
    CHECK(e->setting(session::kCursorSetting).value() == wire::kRefillCursor);
    CHECK(e->setting(session::kRefillSetting).value() == "1");
    // Seq 6 holds a placeholder, so that the pushed seqs stay unbroken; new ops come after 10.
    Result<std::vector<Op>> own = e->ops_after(4, 100);
    REQUIRE(own.ok());
    REQUIRE(own->size() == 6);
    CHECK(own->at(1).id.seq == 6);
    CHECK(own->at(1).record == "repair/dev-a");
    CHECK(e->write(note("visit/S1/a", 99))->seq == 11);
    CHECK(e->check_integrity().ok());
  }
  SECTION("a store that does not open is left as it is") {
    scribble(s.path, "UPDATE meta SET value = 'dev-x' WHERE key = 'device_id'");
    Result<RepairReport> r = repair_store(s.path, true);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kDamaged);
    CHECK_THAT(r.status().message(), Catch::Contains("nothing of it can be kept"));
    CHECK(fs::is_regular_file(s.path));
    CHECK_FALSE(fs::exists(s.path + ".repairing"));
  }
}
