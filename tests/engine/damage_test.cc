// A store that knows when it is damaged: row checksums, the damage marker, SQLite's checks
// after an unclean close.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include <visitsync/engine.h>

#include "raw_sql.h"
#include "support/test_support.h"
#include "util/crc32c.h"

using namespace vs;
using vs::test::raw_sql;

namespace {

Write text_write(const std::string& record, const std::string& field, const std::string& text) {
  return Write{record, field, Policy::kLww, Value::text(text), 0};
}

// A store of two records, closed cleanly (no WAL left).
struct TwoRecords {
  test::TempDir dir;
  test::ManualClock clock;
  std::string path = dir.file("store.db");
  TwoRecords() {
    auto e = open();
    REQUIRE(e->write(text_write("visit/a", "zone", "traffic")).ok());
    REQUIRE(e->write(text_write("visit/b", "zone", "quiet")).ok());
    REQUIRE(e->set_counter("acked", 7).ok());
    REQUIRE(e->set_setting("hub", "hub.example:7000").ok());
  }
  std::unique_ptr<Engine> open() { return test::open_engine(dir, "dev-a", &clock, "store.db"); }
};

void check_damage(const Status& s, const std::string& what) {
  CHECK(s.code() == Code::kDamaged);
  CHECK_THAT(s.message(), Catch::StartsWith("store damaged: ") && Catch::Contains(what));
}

}  // namespace

TEST_CASE("CRC32C gives the standard check value on both paths", "[engine][store][damage]") {
  const std::string nine = "123456789";
  CHECK(util::crc32c(0, nine) == 0xE3069283u);
  CHECK(util::crc32c_portable(0, nine.data(), nine.size()) == 0xE3069283u);
  // In pieces, unaligned, and long enough for the eight-byte loops.
  std::string long_text;
  for (int i = 0; i < 1000; ++i) long_text += static_cast<char>(i * 7 + 3);
  const std::uint32_t whole = util::crc32c(0, long_text);
  CHECK(util::crc32c_portable(0, long_text.data(), long_text.size()) == whole);
  const std::uint32_t parts = util::crc32c(util::crc32c(0, long_text.data(), 333),
                                           long_text.data() + 333, long_text.size() - 333);
  CHECK(parts == whole);
}

TEST_CASE("a changed row is damage, named, and never other data", "[engine][store][damage]") {
  TwoRecords s;
  SECTION("a record's state") {
    // The bytes of "traffic" become "trabfic" inside the stored state, as a flipped bit does.
    raw_sql(s.path,
            "UPDATE records SET state = CAST(replace(CAST(state AS TEXT), 'traffic', "
            "'trabfic') AS BLOB) WHERE key = 'visit/a'");
    auto e = s.open();
    check_damage(e->read("visit/a").status(), "record 'visit/a' fails its checksum");
    CHECK(e->read("visit/b").ok());  // the sound record still reads
  }
  SECTION("a record's key") {
    raw_sql(s.path, "UPDATE records SET key = 'visit/c' WHERE key = 'visit/b'");
    auto e = s.open();
    check_damage(e->records_with_prefix("visit/").status(), "the key of record 'visit/c'");
  }
  SECTION("an op log row") {
    raw_sql(s.path, "UPDATE ops SET hlc = hlc + 1 WHERE seq = 1");
    auto e = s.open();
    check_damage(e->log_after(0, 100).status(), "op log row at 1 fails its checksum");
    check_damage(e->ops_after(0, 100).status(), "op log row at 1");
  }
  SECTION("an interned field name") {
    raw_sql(s.path, "UPDATE field_names SET name = 'zona' WHERE name = 'zone'");
    auto e = s.open();
    check_damage(e->log_after(0, 100).status(), "the field name of op log row at 1");
  }
  SECTION("a counter") {
    raw_sql(s.path, "UPDATE counters SET value = 70 WHERE name = 'acked'");
    auto e = s.open();
    check_damage(e->counter("acked").status(), "counter 'acked' fails its checksum");
  }
  SECTION("a setting") {
    raw_sql(s.path, "UPDATE settings SET value = 'evil.example:7000' WHERE name = 'hub'");
    auto e = s.open();
    check_damage(e->setting("hub").status(), "setting 'hub' fails its checksum");
  }
}

TEST_CASE("a damaged device id refuses the open", "[engine][store][damage]") {
  TwoRecords s;
  std::string what;
  SECTION("the store's") {
    raw_sql(s.path, "UPDATE meta SET value = 'dev-x' WHERE key = 'device_id'");
    what = "the stored device id fails its checksum";
  }
  SECTION("its interned row") {
    raw_sql(s.path, "UPDATE devices SET id = 'dev-x' WHERE idx = 1");
    what = "is not the store's first device";
  }
  Options o;
  o.durability = Durability::kNormal;
  Result<std::unique_ptr<Engine>> e = Engine::open(s.path, o);
  REQUIRE_FALSE(e.ok());
  check_damage(e.status(), what);
}

TEST_CASE("a store seen damaged takes no more writes, in this process or a later one",
          "[engine][store][damage]") {
  TwoRecords s;
  raw_sql(s.path, "UPDATE records SET conflicts = 3 WHERE key = 'visit/a'");
  const std::string marker = s.path + "-damaged";
  {
    auto e = s.open();
    REQUIRE(e->write(text_write("visit/b", "zone", "busy")).ok());  // not known yet
    check_damage(e->read("visit/a").status(), "record 'visit/a'");
    // visit/b's row is sound, but the store is not: the write is refused.
    check_damage(e->write(text_write("visit/b", "zone", "calm")).status(),
                 "takes no more writes until it is repaired");
    CHECK(e->read("visit/b").ok());
  }
  REQUIRE(std::filesystem::is_regular_file(marker));
  CHECK_THAT(test::slurp(marker), Catch::Contains("record 'visit/a' fails its checksum"));
  auto again = s.open();
  check_damage(again->set_setting("x", "y"), "record 'visit/a' fails its checksum");
  Result<RecordView> b = again->read("visit/b");
  REQUIRE(b.ok());
  REQUIRE(b->find("zone") != nullptr);
  CHECK(b->find("zone")->value == Value::text("busy"));
  // Once the marker is gone (a repair moves it aside with the store), writes go on.
  again.reset();
  std::filesystem::remove(marker);
  CHECK(s.open()->set_setting("x", "y").ok());
}

TEST_CASE("a store left without a clean close is checked when it opens",
          "[engine][store][damage]") {
  test::TempDir dir;
  test::ManualClock clock;
  const std::string copy = dir.file("copy.db");
  {
    auto e = test::open_engine(dir, "dev-a", &clock, "live.db");
    std::vector<Write> writes;
    for (int i = 0; i < 2000; ++i)
      writes.push_back(text_write("visit/" + std::to_string(i / 10), "f" + std::to_string(i % 10),
                                  std::string(60, 'x')));
    REQUIRE(e->write_batch(writes).ok());
    raw_sql(dir.file("live.db"), "PRAGMA wal_checkpoint(TRUNCATE)");
    REQUIRE(e->write(text_write("visit/0", "f0", "z")).ok());
    // A copy taken while the engine is open: the file and its WAL, as a crash leaves them.
    for (const char* suffix : {"", "-wal"})
      std::filesystem::copy_file(dir.file("live.db") + suffix, copy + suffix);
  }
  REQUIRE(std::filesystem::file_size(copy + "-wal") > 0);
  SECTION("sound: writes go on") {
    auto e = test::open_engine(dir, "dev-a", &clock, "copy.db");
    CHECK(e->write(text_write("visit/0", "f0", "y")).ok());
  }
  SECTION("damaged where no read of a row looks: it does not open, except for a salvage") {
    // Scribble over a page of the file that the WAL holds no newer copy of. (A damaged WAL
    // frame fails the WAL's own checksum: SQLite then drops it and the frames after it.)
    std::string bytes = test::slurp(copy);
    REQUIRE(bytes.size() > 40 * 4096);
    for (std::size_t i = 20 * 4096; i < 21 * 4096; i += 3) bytes[i] = static_cast<char>(i);
    test::write_file(copy, bytes);
    Options o;
    o.device_id = "dev-a";
    o.clock = &clock;
    o.check_bytes = 0;  // a store too big for the check at every open: the WAL calls for one
    Result<std::unique_ptr<Engine>> e = Engine::open(copy, o);
    REQUIRE_FALSE(e.ok());
    check_damage(e.status(), "quick check");
    o.salvage = true;
    Result<std::unique_ptr<Engine>> salvaging = Engine::open(copy, o);
    REQUIRE(salvaging.ok());
    check_damage(salvaging.value()->set_setting("x", "y"), "quick check");
  }
}

TEST_CASE(
    "a store up to the check's size is checked at every open, a bigger one only after a "
    "crash",
    "[engine][store][damage]") {
  TwoRecords s;
  {
    auto e = s.open();
    std::vector<Write> writes;
    for (int i = 0; i < 2000; ++i)
      writes.push_back(text_write("visit/" + std::to_string(i / 10), "f" + std::to_string(i % 10),
                                  std::string(60, 'x')));
    REQUIRE(e->write_batch(writes).ok());
  }
  // A leaf page of the records' key index, zeroed: no read of these rows goes through it.
  const std::string page = raw_sql(s.path,
                                   "SELECT rootpage FROM sqlite_schema "
                                   "WHERE name = 'sqlite_autoindex_records_1'");
  std::string bytes = test::slurp(s.path);
  const std::size_t at = (std::stoul(page) - 1) * 4096;
  REQUIRE(bytes.size() >= at + 4096);
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(at) + 100,
            bytes.begin() + static_cast<std::ptrdiff_t>(at) + 4096, '\x55');
  test::write_file(s.path, bytes);
  Options o;
  o.clock = &s.clock;
  o.check_bytes = std::filesystem::file_size(s.path) - 1;
  CHECK(Engine::open(s.path, o).ok());
  o.check_bytes = std::filesystem::file_size(s.path);
  Result<std::unique_ptr<Engine>> checked = Engine::open(s.path, o);
  REQUIRE_FALSE(checked.ok());
  check_damage(checked.status(), "integrity check");
  // The failed check is remembered: from now on every open checks, whatever the size.
  o.check_bytes = 0;
  CHECK(Engine::open(s.path, o).status().code() == Code::kDamaged);
}

TEST_CASE("a damaged schema refuses the open with the damage", "[engine][store][damage]") {
  TwoRecords s;
  // The op log's table loses a column in its stored SQL, as a flipped byte in the schema page
  // can do; statements would fail with "no such column" or misread rows.
  raw_sql(s.path,
          "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = replace(sql, "
          "'context INTEGER NOT NULL,', '') WHERE name = 'ops'");
  Options o;
  o.durability = Durability::kNormal;
  Result<std::unique_ptr<Engine>> e = Engine::open(s.path, o);
  REQUIRE_FALSE(e.ok());
  check_damage(e.status(), "the store's schema fails its checksum");
}

TEST_CASE("an index entry damaged in place hides its record unless the integrity check runs",
          "[engine][store][damage]") {
  TwoRecords s;
  // The records' key index holds 'visit/b'; its copy there becomes 'visit/c', which still sorts
  // last: SQLite's quick check sees nothing, and no row's checksum is read.
  const std::string page = raw_sql(s.path,
                                   "SELECT rootpage FROM sqlite_schema "
                                   "WHERE name = 'sqlite_autoindex_records_1'");
  std::string bytes = test::slurp(s.path);
  const std::size_t from = (std::stoul(page) - 1) * 4096;
  const std::size_t at = bytes.find("visit/b", from);
  REQUIRE(at < from + 4096);
  bytes[at + 6] = 'c';
  test::write_file(s.path, bytes);
  Options o;
  o.clock = &s.clock;
  o.check_bytes = 0;  // as a big store opens
  {
    Result<std::unique_ptr<Engine>> e = Engine::open(s.path, o);
    REQUIRE(e.ok());
    CHECK(e.value()->read("visit/b").status().code() == Code::kNotFound);  // what no check saw
  }
  o.check_bytes = Options().check_bytes;
  Result<std::unique_ptr<Engine>> checked = Engine::open(s.path, o);
  REQUIRE_FALSE(checked.ok());
  check_damage(checked.status(), "integrity check");
}

TEST_CASE("a store that lost its device id is damaged, not new", "[engine][store][damage]") {
  TwoRecords s;
  raw_sql(s.path, "DELETE FROM meta WHERE key = 'device_id'");
  Options o;
  o.clock = &s.clock;
  Result<std::unique_ptr<Engine>> e = Engine::open(s.path, o);
  REQUIRE_FALSE(e.ok());
  check_damage(e.status(), "the store holds no device id");
}
