// Which connections the hub holds (net/admission.h): handshake slots per address and in total,
// apart from session slots, and who is displaced when they run out.
#include "net/admission.h"

#include <catch2/catch.hpp>

using vs::net::Admission;
using vs::net::AdmissionLimits;

TEST_CASE("an address past its share of handshakes displaces its own oldest, never another's",
          "[transport][admission]") {
  Admission a(AdmissionLimits{/*max_handshakes=*/100, /*per_address=*/3, /*sessions=*/10});
  for (std::uint64_t s = 1; s <= 3; ++s) CHECK_FALSE(a.arrive(s, "10.0.0.1").evict);
  CHECK_FALSE(a.arrive(4, "10.0.0.2").evict);
  // The flooding address churns its own slots, oldest first.
  CHECK(a.arrive(5, "10.0.0.1").evict == std::uint64_t{1});
  CHECK(a.arrive(6, "10.0.0.1").evict == std::uint64_t{2});
  CHECK(a.handshakes_from("10.0.0.1") == 3);
  CHECK(a.handshakes_from("10.0.0.2") == 1);
  CHECK(a.handshakes() == 4);
  CHECK(a.evicted() == 2);
  // A handshake that ends frees its address's slot: the next one displaces nobody.
  a.handshake_ended(3);
  CHECK_FALSE(a.arrive(7, "10.0.0.1").evict);
  // The end of one already displaced changes nothing.
  a.handshake_ended(1);
  CHECK(a.handshakes() == 4);
}

TEST_CASE("when every handshake slot is taken, the address holding the most gives up its oldest",
          "[transport][admission]") {
  Admission a(AdmissionLimits{/*max_handshakes=*/6, /*per_address=*/6, /*sessions=*/10});
  CHECK_FALSE(a.arrive(1, "quiet").evict);
  for (std::uint64_t s = 2; s <= 5; ++s) CHECK_FALSE(a.arrive(s, "busy").evict);
  CHECK_FALSE(a.arrive(6, "other").evict);
  REQUIRE(a.handshakes() == 6);
  // A device from the quiet address, or from a new one, gets in; the busy address pays.
  CHECK(a.arrive(7, "quiet").evict == std::uint64_t{2});
  CHECK(a.arrive(8, "new").evict == std::uint64_t{3});
  CHECK(a.handshakes() == 6);
  CHECK(a.handshakes_from("quiet") == 2);
  CHECK(a.handshakes_from("busy") == 2);
  // Now "quiet" and "busy" hold two each: one of them pays, never "other" or "new".
  const std::optional<std::uint64_t> next = a.arrive(9, "new").evict;
  REQUIRE(next);
  CHECK((*next == 1 || *next == 4));
  CHECK(a.handshakes_from("other") == 1);
}

TEST_CASE("handshakes take no session slot, and sessions are capped on their own",
          "[transport][admission]") {
  Admission a(AdmissionLimits{/*max_handshakes=*/1000, /*per_address=*/1000, /*sessions=*/2});
  for (std::uint64_t s = 1; s <= 500; ++s) a.arrive(s, "flood");
  CHECK(a.open_session());
  CHECK(a.open_session());
  CHECK_FALSE(a.open_session());
  CHECK(a.sessions() == 2);
  a.close_session();
  CHECK(a.open_session());
  CHECK(a.handshakes() == 500);
}

TEST_CASE("a connection that comes while half the handshake slots are taken is crowded",
          "[transport][admission]") {
  Admission a(AdmissionLimits{/*max_handshakes=*/4, /*per_address=*/4, /*sessions=*/1});
  CHECK_FALSE(a.arrive(1, "x").crowded);
  CHECK_FALSE(a.arrive(2, "x").crowded);
  CHECK(a.arrive(3, "y").crowded);
  a.handshake_ended(1);
  a.handshake_ended(2);
  a.handshake_ended(3);
  CHECK(a.handshakes() == 0);
  CHECK_FALSE(a.arrive(4, "x").crowded);
}

TEST_CASE("limits of 0 are taken as 1", "[transport][admission]") {
  Admission a(AdmissionLimits{0, 0, 0});
  CHECK_FALSE(a.arrive(1, "x").evict);
  CHECK(a.arrive(2, "y").evict == std::uint64_t{1});
  CHECK(a.open_session());
  CHECK_FALSE(a.open_session());
}
