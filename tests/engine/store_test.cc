// The store file: creation, migrations, identity checks, damaged and foreign files.
#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <visitsync/engine.h>

#include "store/migrations.h"
#include "support/test_support.h"

using namespace vs;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Runs SQL on a file with plain SQLite, outside the engine.
std::string raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string out;
  auto cb = [](void* o, int n, char** vals, char**) {
    auto* s = static_cast<std::string*>(o);
    for (int i = 0; i < n; ++i) *s += (vals[i] != nullptr ? vals[i] : "NULL");
    return 0;
  };
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), cb, &out, &err);
  std::string e = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  INFO(e);
  REQUIRE(rc == SQLITE_OK);
  return out;
}

Result<std::unique_ptr<Engine>> try_open(const std::string& path,
                                         const std::string& device = "dev-a") {
  Options o;
  o.device_id = device;
  o.durability = Durability::kNormal;
  return Engine::open(path, o);
}

}  // namespace

TEST_CASE("a new store records its device id and reopens", "[engine][store]") {
  test::TempDir dir;
  test::ManualClock clock;
  {
    auto e = test::open_engine(dir, "dev-a", &clock);
    CHECK(e->device_id() == "dev-a");
  }
  Options o;
  o.clock = &clock;
  auto again = Engine::open(dir.file("dev-a.db"), o);
  REQUIRE(again.ok());
  CHECK(again.value()->device_id() == "dev-a");

  SECTION("with another device id it is refused") {
    again.value().reset();
    auto other = try_open(dir.file("dev-a.db"), "dev-b");
    REQUIRE_FALSE(other.ok());
    CHECK(other.status().code() == Code::kInvalidInput);
    CHECK_THAT(other.status().message(), Catch::Contains("belongs to device 'dev-a'"));
  }
}

TEST_CASE("migrations run once, in order, and the version is recorded", "[engine][store]") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  { REQUIRE(try_open(path).ok()); }
  const int latest = store::store_migrations().back().version;
  CHECK(raw_sql(path, "PRAGMA user_version") == std::to_string(latest));
  CHECK(raw_sql(path, "PRAGMA application_id") == std::to_string(store::kApplicationId));
  CHECK(raw_sql(path, "PRAGMA journal_mode") == "wal");
  // Reopening applies nothing again (a second run of 0001 would fail on existing tables).
  { REQUIRE(try_open(path).ok()); }
  CHECK(raw_sql(path, "PRAGMA user_version") == std::to_string(latest));
  CHECK(raw_sql(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'ops'") == "1");
}

TEST_CASE("the engine's connection enforces foreign keys", "[engine][store]") {
  test::TempDir dir;
  auto e = try_open(dir.file("s.db"));
  REQUIRE(e.ok());
  // Writes go through; the store's schema declares the references that the pragma enforces.
  REQUIRE(e.value()->write(Write{"r", "f", Policy::kLww, Value::integer(1), 0}).ok());
  CHECK(e.value()->check_integrity().ok());
  CHECK(raw_sql(dir.file("s.db"), "PRAGMA foreign_key_check") == "");
}

TEST_CASE("files that are not this version's store are refused, untouched",
          "[engine][store][input]") {
  test::TempDir dir;
  const std::string path = dir.file("x.db");

  SECTION("a store written by a newer visitsync") {
    { REQUIRE(try_open(path).ok()); }
    raw_sql(path, "PRAGMA user_version = 999");
    auto e = try_open(path);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().code() == Code::kInvalidInput);
    CHECK_THAT(e.status().message(), Catch::Contains("newer visitsync") && Catch::Contains("999"));
  }
  SECTION("another application's SQLite database") {
    raw_sql(path,
            "CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT); "
            "INSERT INTO photos(name) VALUES('a.jpg')");
    const std::string before = read_bytes(path);
    auto e = try_open(path);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().code() == Code::kInvalidInput);
    CHECK_THAT(e.status().message(), Catch::Contains("not a visitsync store"));
    CHECK(read_bytes(path) == before);
    CHECK(raw_sql(path, "SELECT name FROM photos") == "a.jpg");
  }
  SECTION("a file that is not a database at all") {
    write_bytes(path, "school_id,name\nS00001,保德杨家湾第1教学点\n");
    const std::string before = read_bytes(path);
    auto e = try_open(path);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().code() == Code::kInvalidInput);
    CHECK_THAT(e.status().message(), Catch::Contains("not an SQLite database"));
    CHECK(read_bytes(path) == before);
  }
  SECTION("a missing store when creation is not allowed") {
    Options o;
    o.create_if_missing = false;
    auto e = Engine::open(path, o);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().code() == Code::kNotFound);
  }
}

TEST_CASE("a damaged store gives a corruption error, not a crash", "[engine][store][input]") {
  test::TempDir dir;
  const std::string path = dir.file("c.db");
  {
    auto e = try_open(path);
    REQUIRE(e.ok());
    std::vector<Write> writes;
    for (int i = 0; i < 3000; ++i) {
      writes.push_back(Write{"visit/" + std::to_string(i / 20), "item_" + std::to_string(i % 20),
                             Policy::kLww, Value::text(std::string(40, 'x')), 0});
    }
    REQUIRE(e.value()->write_batch(writes).ok());
  }
  raw_sql(path, "PRAGMA wal_checkpoint(TRUNCATE)");
  std::string bytes = read_bytes(path);
  REQUIRE(bytes.size() > 8 * 4096);
  // Scribble over every page but the first (the header and schema stay readable).
  for (std::size_t i = 4096; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(i * 31);
  write_bytes(path, bytes);

  auto e = try_open(path);
  if (!e.ok()) {
    CHECK(e.status().code() == Code::kCorrupt);
    return;
  }
  const Status integrity = e.value()->check_integrity();
  CHECK(integrity.code() == Code::kCorrupt);
  Result<std::string> d = e.value()->digest();
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Code::kCorrupt);
  CHECK_THAT(d.status().message(), Catch::Contains("malformed") || Catch::Contains("corrupt"));
}
