// The soak's parts (tests/e2e/soak_test.cc): the hub it kills, the fleet of devices, their
// random work, and the checker. The work runs on worker threads, where Catch2's assertions may
// not be used: it throws std::runtime_error on anything unexpected, and the test reports it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <visitsync/inspection.h>

#include "support/process.h"
#include "support/test_support.h"

namespace vs::test {

// An environment setting of the soak: `fallback` when unset; the test fails, naming it, when
// it is not a whole number in [lo, hi].
int soak_setting(const char* name, int fallback, int lo, int hi);

// A hub's data folder whose devices are told to reach it at device_port() (the fault proxy's),
// while the hub itself listens on port(); the process can be killed and restarted at will.
class SoakHub {
 public:
  explicit SoakHub(const TempDir& dir);
  ~SoakHub();
  std::uint16_t port() const { return port_; }
  std::uint16_t device_port() const { return device_port_; }
  const std::string& path() const { return path_; }
  // SIGKILL, then a new process after `down`; throws if it does not listen within 10 s.
  void kill_and_restart(std::chrono::milliseconds down);
  // Ends the process with SIGTERM (it must exit 0) and waits.
  void stop();

 private:
  void start();
  const TempDir& dir_;
  std::string path_;
  std::uint16_t port_ = 0;
  std::uint16_t device_port_ = 0;
  int starts_ = 0;
  std::mutex mutex_;
  std::unique_ptr<BackgroundProcess> process_;
};

struct SoakDevice {
  std::string dir;
  std::string person;  // the inspector or supervisor it was enrolled for
  bool supervisor = false;
  std::vector<std::string> started;  // visits started here
};

// What the run did, counted by the threads doing it.
struct SoakFigures {
  std::atomic<std::uint64_t> writes{0};        // domain calls that returned OK
  std::atomic<std::uint64_t> photos{0};        // photos attached
  std::atomic<std::uint64_t> refused_here{0};  // domain calls the device itself refused
  std::atomic<std::uint64_t> syncs{0};
  std::atomic<std::uint64_t> syncs_failed{0};
  std::atomic<std::uint64_t> sync_kills{0};
  std::atomic<std::uint64_t> hub_kills{0};
  std::atomic<std::uint64_t> stalls{0};
  std::atomic<std::uint64_t> link_downs{0};
  // Why syncs failed: the error's first line, numbers as '#' (so that ports, counts and seqs do
  // not split a reason), and how often.
  void failed_sync(const std::string& err);
  std::map<std::string, std::uint64_t> failures() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> failures_;
};

// `count` enrolled devices, spread over the sample's people county by county (a supervisor,
// then the county's inspectors, who share schools), a second device each past 24.
std::vector<SoakDevice> enroll_fleet(const TempDir& dir, const SoakHub& hub, int count);

// The domain work: each returns how many of its calls returned OK.
std::optional<std::string> start_one(Inspection& in, const SoakDevice& d, std::mt19937_64& rng,
                                     SoakFigures& fig);
std::uint64_t answer_some(Inspection& in, std::mt19937_64& rng, SoakFigures& fig);
std::uint64_t submit_one(Inspection& in, std::mt19937_64& rng, SoakFigures& fig);
std::uint64_t review_one(Inspection& in, std::mt19937_64& rng, SoakFigures& fig);

// One `visitsync sync --retry-for 60`, after the faults; true when it pushed or pulled anything
// new. Exit 4 (ops refused) counts as done.
bool sync_until_done(const SoakDevice& d);

struct SoakCount {
  std::uint64_t ops = 0;             // ops the devices committed
  std::uint64_t refused = 0;         // of them, refused by the hub with a reason
  std::uint64_t lost = 0;            // neither on the hub nor refused
  std::uint64_t duplicates = 0;      // on the hub more than once
  std::uint64_t phantoms = 0;        // on the hub under a device, though that device has no such op
  std::uint64_t photos = 0;          // photo files named by ops the hub took, on their devices
  std::uint64_t photos_lost = 0;     // of them, not whole on the hub
  std::vector<std::string> reasons;  // the refusals' reasons, each once
  // device folder -> the visits its refused ops wrote to. Such a visit stays apart from the
  // hub's on that device: the device keeps its refused op (and lists it), merged in its state.
  std::map<std::string, std::set<std::string>> refused_visits;
};
// Opens the hub's store and every device's (each must pass its integrity check) and counts.
SoakCount count_ops(const SoakHub& hub, const std::vector<SoakDevice>& fleet);

// Compares every device's JSONL export with the hub's (each visit's line the same bytes) and the
// devices of one person with each other, but for the visits in `apart` (a device's own refused
// writes); returns how many devices disagree (each is reported).
int check_exports(const SoakHub& hub, const std::vector<SoakDevice>& fleet,
                  const std::map<std::string, std::set<std::string>>& apart);

}  // namespace vs::test
