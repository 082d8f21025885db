// A deployment for the sync benchmarks: a hub data folder holding the workload's checklist as a
// template, its schools assigned to one bench inspector, the deployment CA in a folder beside it
// (as visitsync-admin init lays them out), enrolled devices, and the real visitsync-hub process
// serving it on 127.0.0.1.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <visitsync/hub_store.h>
#include <visitsync/inspection.h>
#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>

#include "workload.h"

namespace vs::bench {

inline constexpr const char* kBenchInspector = "I0001";

// Which schools each bench inspector is assigned to.
using Assignments = std::map<std::string, std::set<std::string>>;
// Every school of the workload, assigned to kBenchInspector.
Assignments one_inspector_everywhere(const Workload& w);

class BenchDeployment {
 public:
  // Makes the hub folder in `dir` (dir/hub, its CA in dir/hub-ca) with the template (and
  // `more_templates`, JSON), the workload's schools and every school `assignments` names, and
  // inspectors assigned as `assignments` says.
  static Result<std::unique_ptr<BenchDeployment>> create(
      const std::string& dir, const Workload& w, const Assignments& assignments,
      const std::vector<std::string>& more_templates = {});
  ~BenchDeployment();
  BenchDeployment(const BenchDeployment&) = delete;
  BenchDeployment& operator=(const BenchDeployment&) = delete;
  BenchDeployment(BenchDeployment&&) = delete;
  BenchDeployment& operator=(BenchDeployment&&) = delete;

  // Enrolls a device of an inspector; not thread-safe.
  Result<Enrollment> enroll(const std::string& inspector = kBenchInspector);
  // Enrolls a device of an inspector and makes its data folder; not thread-safe.
  Result<std::pair<Enrollment, std::unique_ptr<Inspection>>> add_device(
      const std::string& name, const std::string& inspector = kBenchInspector);
  const std::string& dir() const { return dir_; }
  // Starts visitsync-hub on the folder and waits until it listens.
  Status start_hub(const std::string& tools_dir);
  // The hub's peak resident memory so far (VmHWM), in MiB.
  double hub_peak_rss_mb() const;
  // The CPU time (user and system) the hub process has used so far, in seconds: in all, and
  // on its main thread (the io thread: accept, TLS, frames). The rest is its store thread's.
  struct Cpu {
    double total_s = 0;
    double main_s = 0;
  };
  Cpu hub_cpu() const;
  Status stop_hub();
  // After stop_hub(): how long the hub's store thread was busy running protocol steps, in
  // seconds, as the hub's last log line says (-1 if it does not).
  double hub_store_busy_s() const;
  HubStore& store() { return *store_; }

 private:
  BenchDeployment() = default;

  std::string dir_;
  std::uint16_t port_ = 0;
  DeploymentCa ca_;  // <dir>/hub-ca, read once: every device enrolled signs with it
  std::unique_ptr<HubStore> store_;
  int hub_pid_ = -1;
};

// The writes that start a visit (its start fields, status "in progress") as
// Inspection::start_visit makes them.
std::vector<Write> visit_start_writes(const std::string& key, const std::string& school_id,
                                      const std::string& template_id, std::int64_t started_ms,
                                      const std::string& inspector = kBenchInspector);

// The writes that record one workload visit on a device, as Inspection::start_visit and
// set_answer would make them. `suffix` makes the visit id unique when one visit is reused.
std::vector<Write> visit_writes(const Workload& w, const WorkloadVisit& v,
                                const std::string& suffix = "",
                                const std::string& inspector = kBenchInspector);

}  // namespace vs::bench
