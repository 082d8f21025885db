// Reference data: imports of the shared files, errors with line numbers, all or nothing, and
// re-imports that update without duplicating. The CSV reader itself: csv_test.cc.
#include <catch2/catch.hpp>

#include <visitsync/inspection.h>

#include "domain/reference_rows.h"
#include "support/test_support.h"

using namespace vs;

namespace {

struct Hub {
  test::TempDir dir;
  test::ManualClock clock{test::kToday};
  std::unique_ptr<Inspection> in;
  Hub() {
    Result<std::unique_ptr<Inspection>> r =
        Inspection::create(dir.file("data"), "hub-test", "hub", "admin", Role::kAdmin, &clock);
    INFO(r.status().to_string());
    REQUIRE(r.ok());
    in = std::move(r.value());
  }
  ImportReport import(ReferenceKind kind, const std::string& csv) {
    Result<ImportReport> r = in->import_reference(kind, csv);
    INFO(r.status().to_string());
    REQUIRE(r.ok());
    return r.value();
  }
  Status import_error(ReferenceKind kind, const std::string& csv) {
    Result<ImportReport> r = in->import_reference(kind, csv);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
    return r.status();
  }
  std::string digest() { return in->engine().digest().value(); }
};

const std::string kSchoolsHeader =
    "school_id,name,city,county,township,level,boarding,students,teachers,lat,lon\n";

}  // namespace

TEST_CASE_METHOD(Hub, "the sample deployment imports, and re-imports without duplicates",
                 "[engine][reference]") {
  const std::string ref = test::sample_dir();
  const ImportReport schools = import(ReferenceKind::kSchools, test::slurp(ref + "/schools.csv"));
  const ImportReport inspectors =
      import(ReferenceKind::kInspectors, test::slurp(ref + "/inspectors.csv"));
  const ImportReport assignments =
      import(ReferenceKind::kAssignments, test::slurp(ref + "/assignments.csv"));
  CHECK(schools.rows == 60);
  CHECK(schools.created == 60);
  CHECK(inspectors.created == 24);
  CHECK(assignments.created == 84);  // two inspectors a school in counties 0-3, one in 4-9

  Result<School> s = in->school("S00001");
  REQUIRE(s.ok());
  CHECK(s->name == "代县枣林镇第1中学");
  CHECK(s->level == "junior");
  CHECK(s->students == 731);
  REQUIRE(s->location);
  CHECK(s->location->lat == Approx(39.00332));
  Result<Inspector> sup = in->inspector("I0001");
  REQUIRE(sup.ok());
  CHECK(sup->role == Role::kSupervisor);
  CHECK(sup->county == "代县");
  CHECK(in->assigned_schools("I0012")->size() == 6);
  CHECK(in->inspector("I0010")->role == Role::kSupervisor);
  CHECK(in->inspector("I0011")->role == Role::kInspector);
  // The sample's assignments have no end: the demo and the tests run on any later date.
  clock.set(2'208'988'800'000);  // 2040-01-01
  CHECK(in->assigned_schools("I0012")->size() == 6);
  clock.set(test::kToday);

  const std::uint64_t ops = in->engine().stats()->ops;
  const std::string before = digest();
  SECTION("the same files again change nothing") {
    const ImportReport again = import(ReferenceKind::kSchools, test::slurp(ref + "/schools.csv"));
    CHECK(again.unchanged == 60);
    CHECK(again.created == 0);
    CHECK(in->engine().stats()->ops == ops);
    CHECK(digest() == before);
  }
  SECTION("a changed row updates its record and writes only the changed field") {
    std::string csv = test::slurp(ref + "/schools.csv");
    const std::string row = "S00001,代县枣林镇第1中学,忻州市,代县,枣林镇,junior,0,731,66,";
    REQUIRE(csv.find(row) != std::string::npos);
    csv.replace(csv.find(row), row.size(),
                "S00001,代县枣林镇第1中学,忻州市,代县,枣林镇,junior,0,831,66,");
    const ImportReport r = import(ReferenceKind::kSchools, csv);
    CHECK(r.updated == 1);
    CHECK(r.unchanged == 59);
    CHECK(in->engine().stats()->ops == ops + 1);
    CHECK(in->school("S00001")->students == 831);
    CHECK(in->engine().records_with_prefix("school/")->size() == 60);
  }
}

TEST_CASE_METHOD(Hub, "a bad row is reported with its line and nothing is imported",
                 "[engine][reference][input]") {
  const std::string good = "S1,一小,忻州市,保德县,东关镇,primary,0,300,20,39.0,111.1\n";
  const std::string before = digest();
  struct Case {
    std::string csv;
    const char* message;
  };
  const std::vector<Case> cases = {
      {kSchoolsHeader + good + "S2,二小,忻州市,保德县,东关镇,primary,0,many,20,39.0,111.1\n",
       "line 3: students: 'many' is not a count"},
      {kSchoolsHeader + good + "S2,二小,忻州市,保德县,东关镇,college,0,1,1,39.0,111.1\n",
       "line 3: level: 'college' is not one of"},
      {kSchoolsHeader + good + "S3,三小,忻州市,保德县,东关镇,primary,2,1,1,39.0,111.1\n",
       "line 3: boarding: '2' is not 0 or 1"},
      {kSchoolsHeader + good + "S4,四小,忻州市,保德县,东关镇,primary,0,1,1,95.0,111.1\n",
       "line 3: lat: '95.0' is not a coordinate"},
      {kSchoolsHeader + good + "S5,五小,忻州市,保德县\n", "line 3: 4 cells, the header has 11"},
      {kSchoolsHeader + good + good, "line 3: school S1 is listed twice (first on line 2)"},
      {kSchoolsHeader + good + "S 6,六小,忻州市,保德县,东关镇,primary,0,1,1,39.0,111.1\n",
       "line 3: school_id: 'S 6' is not an id"},
      {kSchoolsHeader + good + ",七小,忻州市,保德县,东关镇,primary,0,1,1,39.0,111.1\n",
       "line 3: school_id: '' is not an id"},
      {"school_id,name,city,county,township,level,boarding,students,teachers,lat\n" + good,
       "line 1: missing column 'lon'"},
      {"school_id,name,city,county,township,level,boarding,students,teachers,lat,lon,phone\n",
       "line 1: unknown column 'phone'"},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    const Status s = import_error(ReferenceKind::kSchools, c.csv);
    CHECK_THAT(s.message(), Catch::Contains(c.message));
    CHECK(digest() == before);  // the good row beside it was not stored either
    CHECK_FALSE(in->school("S1").ok());
  }
  SECTION("a long cell is quoted by an excerpt") {
    const std::string id(1000, 'S');
    const Status s = import_error(ReferenceKind::kSchools,
                                  kSchoolsHeader + id + ",一小,忻州市,保德县,东关镇,primary,0," +
                                      std::string(900, '7') + ",20,39.0,111.1\n");
    CHECK(s.message() == "1 bad row, nothing imported\n  line 2: school_id: '" +
                             std::string(40, 'S') +
                             "... (1000 bytes)' is not an id (1 to 32 of A-Z a-z 0-9 _ -)");
    const Status date = import_error(
        ReferenceKind::kAssignments,
        "inspector_id,school_id,from,until\nI1,S1,2026-09-01," + std::string(500, '9') + "\n");
    CHECK_THAT(date.message(), Catch::EndsWith("until: '" + std::string(40, '9') +
                                               "... (500 bytes)' is not a date (YYYY-MM-DD)"));
  }
  SECTION("every bad row is listed, not only the first") {
    const Status s =
        import_error(ReferenceKind::kSchools,
                     kSchoolsHeader + "S1,一小,忻州市,保德县,东关镇,primary,0,-1,20,39.0,111.1\n" +
                         good + "S9,九小,忻州市,保德县,东关镇,primary,x,1,1,39.0,111.1\n");
    CHECK_THAT(s.message(), Catch::StartsWith("2 bad rows, nothing imported"));
    CHECK_THAT(s.message(),
               Catch::Contains("line 2: students") && Catch::Contains("line 4: boarding"));
  }
}

TEST_CASE_METHOD(Hub, "an assignment must name an imported inspector and school, in order",
                 "[engine][reference][input]") {
  import(ReferenceKind::kSchools,
         kSchoolsHeader + "S1,一小,忻州市,保德县,东关镇,primary,0,300,20,39.0,111.1\n");
  import(ReferenceKind::kInspectors, "inspector_id,name,role,county\nI1,王伟,inspector,保德县\n");
  CHECK_THAT(import_error(ReferenceKind::kAssignments,
                          "inspector_id,school_id,from,until\nI1,S2,2026-09-01,2027-01-31\n")
                 .message(),
             Catch::Contains("line 2: school S2 is not imported"));
  CHECK_THAT(import_error(ReferenceKind::kAssignments,
                          "inspector_id,school_id,from,until\nI1,S1,2027-09-01,2027-01-31\n")
                 .message(),
             Catch::Contains("line 2: until: before from"));
  CHECK_THAT(import_error(ReferenceKind::kAssignments,
                          "inspector_id,school_id,from,until\nI1,S1,2026-9-1,2027-01-31\n")
                 .message(),
             Catch::Contains("line 2: from: '2026-9-1' is not a date"));
  CHECK_THAT(import_error(ReferenceKind::kInspectors,
                          "inspector_id,name,role,county\nI2,李娜,director,保德县\n")
                 .message(),
             Catch::Contains("line 2: role: 'director' is not one of inspector, supervisor"));
  const ImportReport ok =
      import(ReferenceKind::kAssignments,
             "inspector_id,school_id,from,until\nI1,S1,2026-09-01,2027-01-31\n");
  CHECK(ok.created == 1);
  CHECK(in->assigned_schools("I1").value() == std::vector<std::string>{"S1"});
  clock.set(test::kToday + 400 * 86'400'000LL);  // after the period
  CHECK(in->assigned_schools("I1")->empty());

  // An empty `until` is an assignment with no end; `from` is never optional.
  CHECK_THAT(import_error(ReferenceKind::kAssignments,
                          "inspector_id,school_id,from,until\nI1,S1,,2027-01-31\n")
                 .message(),
             Catch::Contains("line 2: from: '' is not a date"));
  REQUIRE(
      import(ReferenceKind::kAssignments, "inspector_id,school_id,from,until\nI1,S1,2026-12-01,\n")
          .updated == 1);
  CHECK(in->assigned_schools("I1").value() == std::vector<std::string>{"S1"});
  clock.set(4'102'444'800'000);  // 2100-01-01
  CHECK(in->assigned_schools("I1").value() == std::vector<std::string>{"S1"});
  clock.set(test::kToday);  // before 2026-12-01
  CHECK(in->assigned_schools("I1")->empty());
}

TEST_CASE("the row parser refuses a row of another width than the header, whatever came before",
          "[engine][reference][input]") {
  // The reader reuses its row: a short row after a long one leaves the long one's cells beyond
  // its end (found by tools/fuzz.sh: they were read after being freed).
  const std::vector<std::string> header = {"inspector_id", "school_id", "from", "until"};
  Result<domain::ColumnIndex> columns =
      domain::reference_columns(ReferenceKind::kAssignments, header);
  REQUIRE(columns.ok());
  domain::CsvRow row;
  row.cells = {"I0011", "S00001", "2026-09-01", "2027-07-31"};
  row.line = 2;
  REQUIRE(domain::parse_reference_row(ReferenceKind::kAssignments, columns.value(), row).ok());
  row.cells.resize(2);
  Result<domain::ReferenceRow> short_row =
      domain::parse_reference_row(ReferenceKind::kAssignments, columns.value(), row);
  REQUIRE_FALSE(short_row.ok());
  CHECK(short_row.status().message() == "2 cells, the header has 4");
  row.cells = {"I0011", "S00001", "2026-09-01", "", "extra"};
  CHECK(domain::parse_reference_row(ReferenceKind::kAssignments, columns.value(), row)
            .status()
            .message() == "5 cells, the header has 4");
}
