#include "clock/hlc.h"

#include <catch2/catch.hpp>

#include <visitsync/engine.h>

#include "support/test_support.h"

using namespace vs;

TEST_CASE("the hybrid clock only moves forward", "[engine][clock]") {
  test::ManualClock wall(1'000'000);
  clock::HybridClock hlc(wall, 0, Engine::kMaxClockLeadMs);
  const Hlc first = hlc.tick();
  CHECK(hlc_millis(first) == 1'000'000);
  CHECK(hlc_counter(first) == 0);

  SECTION("readings in the same millisecond count up") {
    const Hlc second = hlc.tick();
    CHECK(second > first);
    CHECK(hlc_millis(second) == 1'000'000);
    CHECK(hlc_counter(second) == 1);
  }
  SECTION("a wall clock that jumps back a day does not move it back") {
    wall.set(1'000'000 - 86'400'000);
    const Hlc after = hlc.tick();
    CHECK(after > first);
    CHECK(hlc_millis(after) == 1'000'000);
  }
  SECTION("a full logical counter carries into the milliseconds") {
    for (int i = 0; i < 70'000; ++i) (void)hlc.tick();
    const Hlc h = hlc.tick();
    CHECK(hlc_millis(h) == 1'000'001);
    CHECK(h > first);
  }
  SECTION("a stamp from a replica a little ahead advances it") {
    const Hlc remote = make_hlc(1'000'000 + 60'000, 3);
    CHECK(hlc.observe(remote));
    CHECK(hlc.tick() > remote);
  }
  SECTION("a stamp from a clock years ahead is not followed") {
    const Hlc remote = make_hlc(1'000'000 + 3 * test::kYearMs, 0);
    CHECK_FALSE(hlc.observe(remote));
    CHECK(hlc_millis(hlc.tick()) == 1'000'000);
  }
}

TEST_CASE("the engine's clock is persisted and advanced by ops received", "[engine][clock]") {
  test::TempDir dir;
  test::ManualClock wall(2'000'000'000'000);
  Hlc last_written;
  {
    auto e = test::open_engine(dir, "dev-a", &wall);
    REQUIRE(e->write(Write{"r", "f", Policy::kLww, Value::integer(1), 0}).ok());
    last_written = e->now_hlc();
  }
  wall.set(1'000'000'000'000);  // the device's clock is reset to years ago
  auto e = test::open_engine(dir, "dev-a", &wall);
  REQUIRE(e->write(Write{"r", "f", Policy::kLww, Value::integer(2), 0}).ok());
  CHECK(e->now_hlc() > last_written);

  // A remote op ahead of this (old) wall clock by less than the limit pulls the clock forward.
  test::ManualClock other_wall(2'000'000'000'000 + 60'000);
  auto other = test::open_engine(dir, "dev-b", &other_wall);
  wall.set(2'000'000'000'000);
  REQUIRE(other->write(Write{"r", "g", Policy::kLww, Value::integer(3), 0}).ok());
  Result<LogSlice> ops = other->log_after(0, 10);
  REQUIRE(ops.ok());
  REQUIRE(e->apply_remote(ops->ops).ok());
  CHECK(e->now_hlc() >= ops->ops[0].hlc);
}
