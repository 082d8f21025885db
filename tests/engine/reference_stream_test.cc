// Reference imports that stream (domain/reference.cc): files of thousands of rows, read through
// the CSV reader and written in batches inside one transaction. A bad line late in the file
// refuses the whole import and names the line; a key listed twice, or an assignment naming a
// school that is not there, is found across batches; memory does not grow with the rows.
#include <algorithm>
#include <cstring>
#include <functional>
#include <malloc.h>

#include <catch2/catch.hpp>

#include <visitsync/inspection.h>

#include "support/test_support.h"

using namespace vs;

namespace {

std::string padded(std::size_t n) {
  std::string s = std::to_string(n);
  return std::string(6 - std::min<std::size_t>(6, s.size()), '0') + s;
}

// Rows made on demand, `rows` of them after `header`, row i on line i + 1; `row(i)` makes one.
// `on_read` runs at each read with the number of rows handed out so far.
struct MadeRows {
  MadeRows(std::string h, std::size_t n, std::function<std::string(std::size_t)> make)
      : header(std::move(h)), rows(n), row(std::move(make)) {}
  std::string header;
  std::size_t rows = 0;
  std::function<std::string(std::size_t)> row;
  std::function<void(std::size_t)> on_read;
  std::string pending;
  std::size_t made = 0;
  Result<std::size_t> operator()(char* buf, std::size_t n) {
    if (made == 0 && pending.empty()) pending = header;
    while (pending.size() < n && made < rows) pending += row(++made);
    if (on_read) on_read(made);
    const std::size_t take = std::min(n, pending.size());
    std::memcpy(buf, pending.data(), take);
    pending.erase(0, take);
    return take;
  }
};

const char* const kSchoolsHeader =
    "school_id,name,city,county,township,level,boarding,students,teachers,lat,lon\n";

std::string school(std::size_t i) {
  return "S" + padded(i) + ",第" + std::to_string(i) + "小学,忻州市,保德县,东关镇,primary,0," +
         std::to_string(100 + i % 500) + ",20,39.0,111.1\n";
}

MadeRows schools(std::size_t rows) { return MadeRows(kSchoolsHeader, rows, school); }

struct Hub {
  test::TempDir dir;
  test::ManualClock clock{test::kToday};
  std::unique_ptr<Inspection> in;
  Hub() {
    Result<std::unique_ptr<Inspection>> r =
        Inspection::create(dir.file("data"), "hub-test", "hub", "admin", Role::kAdmin, &clock);
    REQUIRE(r.ok());
    in = std::move(r.value());
  }
  Result<ImportReport> import(ReferenceKind kind, MadeRows rows) {
    return in->import_reference_stream(kind, std::ref(rows));
  }
  std::uint64_t ops() { return in->engine().stats()->ops; }
  std::string digest() { return in->engine().digest().value(); }
};

}  // namespace

TEST_CASE_METHOD(Hub, "a bad line late in a big file refuses the whole import and names it",
                 "[engine][reference][input]") {
  const std::string before = digest();
  const std::uint64_t ops_before = ops();
  MadeRows rows = schools(5000);
  std::size_t bad = 0;  // the line of the bad row
  std::string expected;
  SECTION("a bad cell") {
    bad = 4800;
    rows.row = [&](std::size_t i) {
      return i + 1 == bad ? "S999999,x,y,z,w,primary,0,many,20,39.0,111.1\n" : school(i);
    };
    expected = "1 bad row, nothing imported\n  line 4800: students: 'many' is not a count";
  }
  SECTION("a quote inside an unquoted field") {
    bad = 4900;
    rows.row = [&](std::size_t i) { return i + 1 == bad ? "S999999,x\"y\n" : school(i); };
    expected = "nothing imported: line 4900, column 2: a quote inside an unquoted field";
  }
  SECTION("a school listed twice, far apart") {
    bad = 4700;
    rows.row = [&](std::size_t i) { return school(i + 1 == bad ? 1 : i); };
    expected =
        "1 bad row, nothing imported\n  line 4700: school S000001 is listed twice (first on "
        "line 2)";
  }
  // Batches before the bad line were written (the import reads its own writes), and the
  // refusal takes them back.
  bool written_before = false;
  rows.on_read = [&](std::size_t made) {
    if (made + 1 >= bad && !written_before) written_before = in->school("S000001").ok();
  };
  Result<ImportReport> r = import(ReferenceKind::kSchools, rows);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidInput);
  CHECK(r.status().message() == expected);
  CHECK(written_before);
  CHECK(digest() == before);
  CHECK(ops() == ops_before);
  CHECK(in->school("S000001").status().code() == Code::kNotFound);
}

TEST_CASE_METHOD(Hub, "a big file re-imports without a write and updates only what changed",
                 "[engine][reference]") {
  Result<ImportReport> first = import(ReferenceKind::kSchools, schools(3000));
  REQUIRE(first.ok());
  CHECK(first->created == 3000);
  const std::uint64_t after_first = ops();
  const std::string digest_first = digest();
  Result<ImportReport> again = import(ReferenceKind::kSchools, schools(3000));
  REQUIRE(again.ok());
  CHECK(again->unchanged == 3000);
  CHECK(ops() == after_first);
  CHECK(digest() == digest_first);
  MadeRows changed = schools(3000);
  changed.row = [](std::size_t i) {
    return i == 2500 ? "S002500,第2500小学,忻州市,保德县,东关镇,primary,1,101,20,39.0,111.1\n"
                     : school(i);
  };
  Result<ImportReport> update = import(ReferenceKind::kSchools, changed);
  REQUIRE(update.ok());
  CHECK(update->updated == 1);
  CHECK(update->unchanged == 2999);
  CHECK(ops() == after_first + 2);  // boarding and students
  CHECK(in->school("S002500")->boarding);
}

TEST_CASE_METHOD(Hub, "assignments name schools imported before, however many rows come between",
                 "[engine][reference][input]") {
  REQUIRE(import(ReferenceKind::kSchools, schools(3000)).ok());
  MadeRows people("inspector_id,name,role,county\n", 30,
                  [](std::size_t j) { return "I" + padded(j) + ",王伟,inspector,保德县\n"; });
  REQUIRE(import(ReferenceKind::kInspectors, people).ok());
  auto assignment = [](std::size_t i) {
    return "I" + padded(i % 30 + 1) + ",S" + padded(i) + ",2026-09-01,\n";
  };
  MadeRows assignments("inspector_id,school_id,from,until\n", 3000, assignment);
  const std::string before = digest();
  SECTION("a school that is not imported, late in the file") {
    assignments.row = [&](std::size_t i) {
      return i == 2998 ? "I000001,S009999,2026-09-01,\n" : assignment(i);
    };
    Result<ImportReport> r = import(ReferenceKind::kAssignments, assignments);
    CHECK(r.status().message() ==
          "1 bad row, nothing imported\n  line 2999: school S009999 is not imported");
    CHECK(digest() == before);
  }
  SECTION("an assignment listed twice, in different batches") {
    assignments.row = [&](std::size_t i) { return assignment(i == 2500 ? 7 : i); };
    Result<ImportReport> r = import(ReferenceKind::kAssignments, assignments);
    CHECK(r.status().message() ==
          "1 bad row, nothing imported\n  line 2501: assignment I000008/S000007 is listed "
          "twice (first on line 8)");
    CHECK(digest() == before);
  }
  SECTION("every row good") {
    Result<ImportReport> r = import(ReferenceKind::kAssignments, assignments);
    REQUIRE(r.ok());
    CHECK(r->created == 3000);
    CHECK(in->assigned_schools("I000001")->size() == 100);
  }
}

TEST_CASE_METHOD(Hub, "an import's memory does not grow with its rows", "[engine][reference]") {
  // The heap in use is sampled at each read of the input. The whole-file import held every row
  // and every write until the end (about 7 KB a school: 200 MB for these 30,000); a streamed one
  // holds a batch. (Under AddressSanitizer mallinfo2 does not see the heap: the test then
  // checks nothing.)
  const auto heap = [] {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
  };
  const std::size_t base = heap();
  std::size_t peak = base;
  MadeRows rows = schools(30000);
  rows.on_read = [&](std::size_t) { peak = std::max(peak, heap()); };
  Result<ImportReport> r = import(ReferenceKind::kSchools, rows);
  REQUIRE(r.ok());
  CHECK(r->created == 30000);
  INFO("heap grew by " << (peak - base) / 1024 << " KiB");
  CHECK(peak - base < (24u << 20));
}
