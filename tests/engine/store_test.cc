// The store file: creation, migrations, identity checks, damaged and foreign files.
#include <algorithm>
#include <filesystem>
#include <random>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <visitsync/engine.h>

#include "raw_sql.h"
#include "store/migrations.h"
#include "support/test_support.h"

using namespace vs;
using vs::test::kBackToVersion3;
using vs::test::kSealOps;
using vs::test::raw_sql;

namespace {

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
    const std::string before = test::slurp(path);
    auto e = try_open(path);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().code() == Code::kInvalidInput);
    CHECK_THAT(e.status().message(), Catch::Contains("not a visitsync store"));
    CHECK(test::slurp(path) == before);
    CHECK(raw_sql(path, "SELECT name FROM photos") == "a.jpg");
  }
  SECTION("a file that is not a database at all") {
    test::write_file(path, "school_id,name\nS00001,保德杨家湾第1教学点\n");
    const std::string before = test::slurp(path);
    auto e = try_open(path);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().code() == Code::kInvalidInput);
    CHECK_THAT(e.status().message(), Catch::Contains("not an SQLite database"));
    CHECK(test::slurp(path) == before);
  }
  SECTION("a missing store when creation is not allowed") {
    Options o;
    o.create_if_missing = false;
    auto e = Engine::open(path, o);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().code() == Code::kNotFound);
  }
}

TEST_CASE("a store's path that is not a regular file is refused, never waited on or written",
          "[engine][store][input]") {
  test::TempDir dir;
  const std::string path = dir.file("x.db");
  Options no_id;  // as every command but init opens a store
  no_id.durability = Durability::kNormal;

  SECTION("a FIFO, as the store or beside it") {
    // An open of a FIFO blocked every command forever. (Were the check missing, the test would
    // hang, and CTest's timeout would fail it.)
    const std::string fifo = GENERATE(std::string(""), std::string("-wal"), std::string("-shm"));
    if (!fifo.empty()) REQUIRE(try_open(path).ok());
    REQUIRE(mkfifo((path + fifo).c_str(), 0600) == 0);
    Result<std::unique_ptr<Engine>> e = Engine::open(path, no_id);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().code() == Code::kInvalidInput);
    CHECK(e.status().message() == path + fifo + " is not a regular file (a store is one)");
  }
  SECTION("a folder") {
    std::filesystem::create_directories(path);
    CHECK(Engine::open(path, no_id).status().message() ==
          path + " is not a regular file (a store is one)");
  }
  SECTION("an empty file: refused, and still empty") {
    test::write_file(path, "");
    Result<std::unique_ptr<Engine>> e = Engine::open(path, no_id);
    CHECK(e.status().code() == Code::kInvalidInput);
    CHECK(e.status().message() == path + " is an empty file, not a visitsync store");
    CHECK(test::slurp(path).empty());  // the refused open had written a whole schema into it
    CHECK(!std::filesystem::exists(path + "-wal"));
  }
  SECTION("a path through a symlink loop, or with a name too long") {
    std::filesystem::create_symlink(dir.file("loop"), dir.file("loop"));
    CHECK(Engine::open(dir.file("loop") + "/x.db", no_id).status().code() == Code::kInvalidInput);
    CHECK(Engine::open(dir.file(std::string(300, 'n')), no_id).status().code() ==
          Code::kInvalidInput);
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
  std::string bytes = test::slurp(path);
  REQUIRE(bytes.size() > 8 * 4096);
  // Scribble over every page but the first (the header and schema stay readable).
  for (std::size_t i = 4096; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(i * 31);
  test::write_file(path, bytes);

  auto e = try_open(path);
  if (!e.ok()) {
    CHECK(e.status().code() == Code::kDamaged);
    return;
  }
  const Status integrity = e.value()->check_integrity();
  CHECK(integrity.code() == Code::kDamaged);
  Result<std::string> d = e.value()->digest();
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Code::kDamaged);
  CHECK_THAT(d.status().message(), Catch::StartsWith("store damaged: "));
}

namespace {

// What a replica sends of its log: 600 ops of one record written together (more than two
// runs' worth), then single writes alternating between two records. Every policy, overwrites
// (bases), long and empty texts, negative counts, and clocks that go back inside a run.
std::vector<Op> ops_to_send(Engine& from) {
  static const Policy kPolicies[] = {Policy::kLww, Policy::kCounter, Policy::kUnion,
                                     Policy::kAppend, Policy::kMax};
  auto write_of = [](const std::string& record, int i) {
    const Policy p = kPolicies[i % 5];
    Value v;
    switch (p) {
      case Policy::kCounter:
        v = Value::integer(i - 300);
        break;
      case Policy::kUnion:
        v = Value::set({"roof", "water" + std::to_string(i % 3)});
        break;
      case Policy::kAppend:
        v = Value::text("note " + std::to_string(i));
        break;
      case Policy::kMax:
        v = Value::integer(i * 1000003LL);
        break;
      default:
        v = Value::text(std::string(static_cast<std::size_t>(i % 7) * 300, 'x'));
    }
    return Write{record, "f" + std::to_string(i % 40), p, v, static_cast<std::uint32_t>(i % 3)};
  };
  std::vector<Write> run;
  for (int i = 0; i < 600; ++i) run.push_back(write_of("visit/S1/v1", i));
  REQUIRE(from.write_batch(run).ok());
  for (int i = 0; i < 6; ++i)
    REQUIRE(from.write(write_of(i % 2 ? "visit/S1/v1" : "visit/S1/v2", i)).ok());
  Result<LogSlice> all = from.log_after(0, 1'000'000);
  REQUIRE(all.ok());
  std::vector<Op> ops = std::move(all->ops);
  REQUIRE(ops.size() == 606);
  REQUIRE(std::any_of(ops.begin(), ops.end(), [](const Op& op) { return !op.base.empty(); }));
  for (std::size_t i = 100; i < 120; ++i) ops[i].hlc = make_hlc(1000 - i, 0);
  return ops;
}

void check_same(const std::vector<Op>& got, const std::vector<Op>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("op " << i << ": " << want[i].id.to_string());
    CHECK(got[i].id == want[i].id);
    CHECK(fingerprint(got[i]) == fingerprint(want[i]));
  }
}

// The whole log of `e` is `want`, op for op.
void check_log(Engine& e, const std::vector<Op>& want) {
  Result<LogSlice> got = e.log_after(0, 1'000'000);
  REQUIRE(got.ok());
  check_same(got->ops, want);
}

// dev-a's ops_to_send(), and the store of dev-b that receives them.
struct Received {
  test::TempDir dir;
  test::ManualClock clock;
  std::unique_ptr<Engine> a = test::open_engine(dir, "dev-a", &clock);
  const std::vector<Op> sent = ops_to_send(*a);
  const std::string path = dir.file("b.db");

  // dev-b receives sent[from, to) in batches of `batch` ops, then closes its store.
  void receive(std::size_t from, std::size_t to, std::size_t batch) {
    auto b = try_open(path, "dev-b");
    REQUIRE(b.ok());
    for (std::size_t i = from; i < to; i += batch) {
      const std::vector<Op> part(sent.begin() + i, sent.begin() + std::min(to, i + batch));
      Result<ApplyReport> r = b.value()->apply_remote(part);
      REQUIRE(r.ok());
      REQUIRE(r->applied == part.size());
    }
  }
};

}  // namespace

TEST_CASE_METHOD(Received,
                 "ops received from another device are stored in runs and read back exactly",
                 "[engine][store][log]") {
  receive(0, sent.size(), sent.size());
  // 600 ops of one record: runs of 256, 256 and 88; then six runs of one.
  CHECK(raw_sql(path, "SELECT count(*) FROM ops") == "9");
  CHECK(raw_sql(path, "SELECT group_concat(1 + more_ops) FROM ops") == "256,256,88,1,1,1,1,1,1");
  auto b = try_open(path, "dev-b");
  REQUIRE(b.ok());
  CHECK(b.value()->stats()->ops == sent.size());

  SECTION("read whole") { check_log(*b.value(), sent); }
  SECTION("a slice smaller than a run returns the run whole; the next goes on after it") {
    std::vector<Op> got;
    std::uint64_t cursor = 0;
    std::vector<std::size_t> sizes;
    for (int round = 0; round < 1000; ++round) {
      Result<LogSlice> s = b.value()->log_after(cursor, 5);
      REQUIRE(s.ok());
      if (s->ops.empty()) break;
      sizes.push_back(s->ops.size());
      got.insert(got.end(), s->ops.begin(), s->ops.end());
      cursor = s->next_cursor;
    }
    check_same(got, sent);
    CHECK(sizes == std::vector<std::size_t>{256, 256, 88, 5, 1});
  }
  SECTION("a damaged run is a corruption error that names its row") {
    b.value().reset();
    SECTION("bytes cut short") {
      raw_sql(path, "UPDATE ops SET more = substr(more, 1, 100) WHERE pos = 2");
    }
    SECTION("a count the bytes do not hold") {
      raw_sql(path, "UPDATE ops SET more_ops = 200 WHERE pos = 3");
    }
    SECTION("a count past the limit") {
      raw_sql(path, "UPDATE ops SET more_ops = 100000 WHERE pos = 3");
    }
    SECTION("an unknown field in a run") {
      raw_sql(path, "DELETE FROM field_names WHERE name = 'f39'");
    }
    // With inner joins, such rows used to drop out of reads without a word.
    SECTION("an unknown field in a row's columns") {
      raw_sql(path, "DELETE FROM field_names WHERE name = 'f0'");
    }
    SECTION("an unknown record") { raw_sql(path, "DELETE FROM records WHERE key = 'visit/S1/v2'"); }
    auto reopened = try_open(path, "dev-b");
    REQUIRE(reopened.ok());
    Result<LogSlice> s = reopened.value()->log_after(0, 1'000'000);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == Code::kDamaged);
    CHECK_THAT(s.status().message(),
               Catch::StartsWith("store damaged: ") && Catch::Contains("op log row at"));
  }
}

TEST_CASE_METHOD(Received, "a run keeps ops whose seqs and clocks go backwards",
                 "[engine][store][log]") {
  const std::vector<Op> reversed(sent.rbegin(), sent.rend());
  auto c = try_open(dir.file("c.db"), "dev-c");
  REQUIRE(c.ok());
  Result<ApplyReport> r = c.value()->apply_remote(reversed);
  REQUIRE(r.ok());
  REQUIRE(r->applied == sent.size());
  check_log(*c.value(), reversed);
  CHECK(raw_sql(dir.file("c.db"), "SELECT count(*) FROM ops") == "9");
}

TEST_CASE_METHOD(Received,
                 "a batch whose log write fails leaves nothing, and its retry stores each op once",
                 "[engine][store][log]") {
  auto b = try_open(path, "dev-b");
  REQUIRE(b.ok());
  // The third run (seqs from 513) cannot be written. The batch's field names, records and
  // first two runs were written in its transaction: all of it rolls back.
  raw_sql(path,
          "CREATE TRIGGER planted BEFORE INSERT ON ops WHEN NEW.seq > 512 "
          "BEGIN SELECT RAISE(ABORT, 'planted failure'); END");
  Result<ApplyReport> failed = b.value()->apply_remote(sent);
  REQUIRE_FALSE(failed.ok());
  CHECK_THAT(failed.status().message(), Catch::Contains("planted failure"));
  CHECK(b.value()->stats()->ops == 0);
  CHECK(raw_sql(path, "SELECT count(*) FROM field_names") == "0");
  raw_sql(path, "DROP TRIGGER planted");
  Result<ApplyReport> retried = b.value()->apply_remote(sent);
  REQUIRE(retried.ok());
  CHECK(retried->applied == sent.size());
  check_log(*b.value(), sent);
  auto c = try_open(dir.file("c.db"), "dev-c");  // received without a failure
  REQUIRE(c.ok());
  REQUIRE(c.value()->apply_remote(sent).ok());
  CHECK(b.value()->digest().value() == c.value()->digest().value());
}

TEST_CASE("a run of long values stops growing at its byte limit", "[engine][store][log]") {
  test::TempDir dir;
  test::ManualClock clock;
  auto a = test::open_engine(dir, "dev-a", &clock);
  std::vector<Write> writes;
  for (int i = 0; i < 100; ++i) {
    writes.push_back(Write{"visit/S1/v1", "n" + std::to_string(i), Policy::kLww,
                           Value::text(std::string(60'000, 'a' + i % 26)), 0});
  }
  REQUIRE(a->write_batch(writes).ok());
  Result<LogSlice> sent = a->log_after(0, 1'000);
  REQUIRE(sent.ok());
  const std::string path = dir.file("b.db");
  {
    auto b = try_open(path, "dev-b");
    REQUIRE(b.ok());
    REQUIRE(b.value()->apply_remote(sent->ops).ok());
  }
  // 60,000 bytes an op: a run takes ops while its `more` holds under 256 KiB, so six a row.
  CHECK(raw_sql(path, "SELECT max(1 + more_ops) FROM ops") == "6");
  CHECK(raw_sql(path, "SELECT count(*) FROM ops") == "17");
  auto b = try_open(path, "dev-b");
  REQUIRE(b.ok());
  check_log(*b.value(), sent->ops);
}

TEST_CASE_METHOD(Received, "a store written before runs reads its log and stores new ops in runs",
                 "[engine][store][log]") {
  receive(0, 300, 1);  // one at a time: one op a row, as version 2 stored every op
  // Back to version 2's table, as a store of that version holds it.
  raw_sql(path, std::string(kBackToVersion3) +
                    "DROP INDEX ops_runs; ALTER TABLE ops DROP COLUMN more; " +
                    "ALTER TABLE ops DROP COLUMN more_ops; PRAGMA user_version = 2");
  auto b = try_open(path, "dev-b");
  REQUIRE(b.ok());
  CHECK(b.value()->stats()->schema_version == store::store_migrations().back().version);
  b.value().reset();
  receive(300, sent.size(), sent.size());
  b = try_open(path, "dev-b");
  REQUIRE(b.ok());
  check_log(*b.value(), sent);
  CHECK(raw_sql(path, "SELECT count(*) FROM ops WHERE more_ops > 0") == "2");
}

TEST_CASE_METHOD(Received,
                 "a run's bytes damaged at random are read or refused as corrupt, never a crash",
                 "[engine][store][log][input][property]") {
  receive(0, sent.size(), sent.size());
  const std::string hex = raw_sql(path, "SELECT hex(more) FROM ops WHERE pos = 2");
  REQUIRE(hex.size() > 1000);
  std::mt19937_64 rng(test::seed());
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  static const char kHex[] = "0123456789ABCDEF";
  for (int round = 0; round < test::property_rounds(60); ++round) {
    std::string damaged = hex;
    switch (pick(3)) {
      case 0:  // a few nibbles changed
        for (std::size_t i = 0, n = 1 + pick(4); i < n; ++i)
          damaged[pick(damaged.size())] = kHex[pick(16)];
        break;
      case 1:  // cut short
        damaged.resize(2 * pick(damaged.size() / 2));
        break;
      default:  // garbage after
        for (std::size_t i = 0, n = 1 + pick(8); i < n; ++i)
          damaged += {kHex[pick(16)], kHex[pick(16)]};
    }
    INFO("round " << round);
    // With its checksum made anew: what the decoder does with bytes the checksum cannot
    // vouch against (a bug, or a format this build does not know).
    raw_sql(path, "UPDATE ops SET more = x'" + damaged + "' WHERE pos = 2; " + kSealOps);
    auto b = try_open(path, "dev-b");
    REQUIRE(b.ok());
    Result<LogSlice> s = b.value()->log_after(0, 1'000'000);
    if (s.ok()) {
      CHECK(s->ops.size() == sent.size());
    } else {
      // Malformed bytes, or a field idx the store does not hold (which is damage).
      CHECK((s.status().code() == Code::kCorrupt || s.status().code() == Code::kDamaged));
      CHECK_THAT(s.status().message(), Catch::Contains("op log row at 2"));
    }
  }
}
