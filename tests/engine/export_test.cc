// What an export says of a visit whose template the device does not hold.
#include <string>

#include <catch2/catch.hpp>

#include <visitsync/inspection.h>

#include "support/test_support.h"

using namespace vs;

TEST_CASE("an export names what is missing in the device's own terms", "[engine][export]") {
  test::TempDir dir;
  test::ManualClock clock{test::kToday};
  for (const char* mode : {"standalone", "enrolled"}) {
    INFO(mode);
    Result<std::unique_ptr<Inspection>> in = Inspection::create(
        dir.file(mode), std::string("dev-") + mode, mode, "I0011", Role::kInspector, &clock);
    REQUIRE(in.ok());
    // A visit made with a version of its template this device does not hold.
    const std::string key = "visit/S00011/5e0bd5a4-0000-4000-8000-00000000f00d";
    REQUIRE(
        in.value()
            ->engine()
            .write_batch({Write{key, "school", Policy::kLww, Value::text("S00011"), 0},
                          Write{key, "template", Policy::kLww, Value::text("school-conditions"), 0},
                          Write{key, "template_version", Policy::kLww, Value::integer(7), 0}})
            .ok());
    Result<std::string> csv = in.value()->export_visits(ExportFormat::kCsv, "school-conditions");
    REQUIRE_FALSE(csv.ok());
    CHECK(csv.status().code() == Code::kNotFound);
    CHECK_THAT(csv.status().message(),
               Catch::Contains(std::string(mode) == "standalone"
                                   ? "which this device does not hold"
                                   : "which has not arrived here yet: sync, then export"));
  }
}
