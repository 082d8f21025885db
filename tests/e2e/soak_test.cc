// The soak: enrolled devices (inspectors, co-inspectors of the same schools, supervisors, and
// people with two devices) do random offline work and random syncs through a fault proxy that
// cuts, flips, stalls and drops the link, while the hub process is killed with SIGKILL and
// restarted and device syncs are killed mid-way. Then the faults stop, every device syncs until
// a whole round moves nothing, and the checker counts: every op a device committed is in the
// hub's log exactly once or refused with a reason, every store passes its integrity check, and
// every photo a device took and named in an accepted op is whole on the hub, and
// the replicas agree (each device's export is the hub's for those visits, and the devices of
// one person export the same bytes).
//
// In the normal suite it runs 20 s with 8 devices. VS_SOAK_SECONDS and VS_SOAK_DEVICES make it
// the long run (README.md, "Faults": 600 s, 50 devices). It prints its figures as one JSON line
// starting "soak:". The seed (VS_SEED) fixes the faults and the work chosen; the threads'
// interleaving is the machine's.
#include "e2e/soak.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <visitsync/hub_store.h>
#include <visitsync/inspection.h>

#include "e2e/tools.h"
#include "support/fault_proxy.h"

using namespace vs;
using namespace vs::test;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

namespace {

// One device's random step, with the device held by this worker alone. Throws on anything
// unexpected (no Catch2 assertion off the test's own thread).
void step(SoakDevice& d, std::mt19937_64& rng, SoakFigures& fig) {
  const unsigned pick = rng() % 100;
  if (pick < 40) {
    // A sync, one in four killed at a random moment of it (SIGKILL to its process group).
    const bool kill = rng() % 4 == 0;
    const auto limit =
        kill ? std::chrono::milliseconds(20 + rng() % 1500) : std::chrono::milliseconds(60'000);
    const RunResult r = run(bin("visitsync"), {"sync", "--data", d.dir}, limit);
    ++fig.syncs;
    if (r.exit_code == -1) {
      ++fig.sync_kills;
    } else if (r.exit_code != 0) {
      fig.failed_sync(r.err);  // exit 3 (link or hub down) or 4 (an op refused): expected here
      if (r.exit_code != 3 && r.exit_code != 4)
        throw std::runtime_error(d.dir + ": sync exit " + std::to_string(r.exit_code) + ": " +
                                 r.err);
      // A device does not try again at once; nor does the soak, or failures crowd out work.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return;
  }
  Result<std::unique_ptr<Inspection>> in = Inspection::open(d.dir);
  if (!in.ok()) throw std::runtime_error(d.dir + ": " + in.status().to_string());
  Inspection& insp = *in.value();
  if (d.supervisor) {
    fig.writes += review_one(insp, rng, fig);
  } else if (pick < 50 || d.started.empty()) {
    if (std::optional<std::string> v = start_one(insp, d, rng, fig)) d.started.push_back(*v);
  } else if (pick < 56) {
    fig.writes += submit_one(insp, rng, fig);
  } else {
    fig.writes += answer_some(insp, rng, fig);
  }
}

// The faults: the hub killed and restarted, and the link cut, flipped, stalled or dropped, at
// random moments until `until`.
void inject_faults(SoakHub& hub, FaultProxy& proxy, Steady::time_point until, std::uint64_t seed,
                   SoakFigures& fig) {
  std::mt19937_64 rng(seed);
  auto next_kill = Steady::now() + std::chrono::milliseconds(2000 + rng() % 6000);
  while (Steady::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 1300));
    const unsigned kind = rng() % 20;
    if (kind < 7) {
      proxy.cut_next_after_bytes(100 + rng() % 12'000);
    } else if (kind < 12) {
      proxy.flip_next_at(rng() % 8'000);
    } else if (kind < 16) {
      ++fig.stalls;
      proxy.set_stalled(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 1000));
      proxy.set_stalled(false);
    } else {
      ++fig.link_downs;
      proxy.set_down(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 1000));
      proxy.set_down(false);
    }
    if (Steady::now() >= next_kill) {
      hub.kill_and_restart(std::chrono::milliseconds(100 + rng() % 1500));
      ++fig.hub_kills;
      next_kill = Steady::now() + std::chrono::milliseconds(3000 + rng() % 12'000);
    }
  }
  proxy.cut_next_after_bytes(SIZE_MAX);
  proxy.flip_next_at(SIZE_MAX);
}

}  // namespace

TEST_CASE("a soak of devices syncing through faults and hub kills loses nothing and converges",
          "[e2e][soak]") {
  const int seconds = soak_setting("VS_SOAK_SECONDS", 20, 1, 3600);
  const int devices = soak_setting("VS_SOAK_DEVICES", 8, 2, 200);
  const std::uint64_t seed = test::seed();
  INFO("VS_SEED=" << seed);
  TempDir dir;
  SoakHub hub(dir);
  FaultProxy proxy(hub.port(), hub.device_port());
  proxy.set_delay(std::chrono::milliseconds(20), std::chrono::milliseconds(20));
  std::vector<SoakDevice> fleet = enroll_fleet(dir, hub, devices);
  SoakFigures fig;

  // The work: two workers, each taking a random device nobody else holds.
  const auto start = Steady::now();
  const auto until = start + std::chrono::seconds(seconds);
  std::vector<std::unique_ptr<std::mutex>> held;
  for (int i = 0; i < devices; ++i) held.push_back(std::make_unique<std::mutex>());
  std::mutex errors_mutex;
  std::vector<std::string> errors;  // what went wrong on a worker or the fault thread
  const auto guarded = [&](const std::function<void()>& body) {
    try {
      body();
    } catch (const std::exception& e) {
      const std::lock_guard<std::mutex> lock(errors_mutex);
      errors.emplace_back(e.what());
    }
  };
  const auto failed = [&] {
    const std::lock_guard<std::mutex> lock(errors_mutex);
    return !errors.empty();
  };
  auto work = [&](std::uint64_t worker_seed) {
    std::mt19937_64 rng(worker_seed);
    while (Steady::now() < until && !failed()) {
      const std::size_t k = rng() % fleet.size();
      std::unique_lock<std::mutex> lock(*held[k], std::try_to_lock);
      if (lock.owns_lock()) step(fleet[k], rng, fig);
    }
  };
  std::thread faults(
      [&] { guarded([&] { inject_faults(hub, proxy, until, seed ^ 0xF00D, fig); }); });
  std::thread other([&] { guarded([&] { work(seed + 2); }); });
  guarded([&] { work(seed + 1); });
  other.join();
  faults.join();
  for (const std::string& e : errors) UNSCOPED_INFO(e);
  REQUIRE(errors.empty());
  const auto last_fault = Steady::now();

  // Quiet: every device syncs, round after round, until a whole round moves nothing.
  int rounds = 0;
  for (bool moved = true; moved && rounds < 8; ++rounds) {
    moved = false;
    for (const SoakDevice& d : fleet) moved = sync_until_done(d) || moved;
  }
  CHECK(rounds < 8);
  const double converge_s = std::chrono::duration<double>(Steady::now() - last_fault).count();
  hub.stop();

  const SoakCount count = count_ops(hub, fleet);
  CHECK(count.lost == 0);
  CHECK(count.duplicates == 0);
  CHECK(count.phantoms == 0);
  CHECK(count.photos_lost == 0);
  CHECK(count.photos >= 1);
  const int disagreeing = check_exports(hub, fleet, count.refused_visits);
  CHECK(disagreeing == 0);
  CHECK(fig.hub_kills >= 1);
  CHECK(fig.sync_kills >= 1);
  CHECK(count.ops > static_cast<std::uint64_t>(devices));  // the devices really worked

  std::size_t apart = 0;  // visits a device holds apart from the hub's, by its refused writes
  for (const auto& [device, visits] : count.refused_visits) apart += visits.size();
  const json figures = {{"seconds", seconds},
                        {"devices", devices},
                        {"seed", seed},
                        {"ops", count.ops},
                        {"refused", count.refused},
                        {"refusal_reasons", count.reasons},
                        {"visits_apart", apart},
                        {"lost", count.lost},
                        {"duplicates", count.duplicates},
                        {"photos_attached", fig.photos.load()},
                        {"photos_checked_on_hub", count.photos},
                        {"photos_lost", count.photos_lost},
                        {"writes", fig.writes.load()},
                        {"refused_by_device", fig.refused_here.load()},
                        {"syncs", fig.syncs.load()},
                        {"syncs_failed", fig.syncs_failed.load()},
                        {"sync_failures", fig.failures()},
                        {"sync_kills", fig.sync_kills.load()},
                        {"hub_kills", fig.hub_kills.load()},
                        {"link_cuts", proxy.cuts()},
                        {"byte_flips", proxy.flips()},
                        {"stalls", fig.stalls.load()},
                        {"link_downs", fig.link_downs.load()},
                        {"connections", proxy.connections()},
                        {"quiet_rounds", rounds},
                        {"converge_s", converge_s},
                        {"replicas_disagreeing", disagreeing}};
  std::printf("soak: %s\n", figures.dump().c_str());
}
