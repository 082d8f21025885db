#include <catch2/catch.hpp>

#include <visitsync/engine.h>

#include "support/test_support.h"

using namespace vs;

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
}
