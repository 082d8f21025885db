#include "deployment.h"

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <set>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <visitsync/transport/deployment.h>

extern char** environ;

namespace vs::bench {
namespace {

namespace fs = std::filesystem;

std::uint16_t free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  close(s);
  return ok ? ntohs(a.sin_port) : 0;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// utime + stime of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat file, in seconds (0 if it
// cannot be read). They are fields 14 and 15; the name before them, in parentheses, may hold
// spaces, so the fields are counted from its closing parenthesis (field 2).
double cpu_seconds(const std::string& stat_file) {
  const std::string text = slurp(stat_file);
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

Assignments one_inspector_everywhere(const Workload& w) {
  Assignments a;
  for (const WorkloadVisit& v : w.visits) a[kBenchInspector].insert(v.school_id);
  return a;
}

std::vector<Write> visit_start_writes(const std::string& key, const std::string& school_id,
                                      const std::string& template_id, std::int64_t started_ms,
                                      const std::string& inspector) {
  constexpr std::uint32_t kRoundOne = 1;
  return {
      {key, "school", Policy::kLww, Value::text(school_id), kRoundOne},
      {key, "template", Policy::kLww, Value::text(template_id), kRoundOne},
      {key, "template_version", Policy::kLww, Value::integer(1), kRoundOne},
      {key, "started_by", Policy::kLww, Value::text(inspector), kRoundOne},
      {key, "started_at", Policy::kLww,
       Value::text(format_hlc(make_hlc(static_cast<std::uint64_t>(started_ms), 0)).substr(0, 19) +
                   "Z"),
       kRoundOne},
      {key, "inspectors", Policy::kUnion, Value::set({inspector}), kRoundOne},
      {key, "status", Policy::kMax, Value::integer(4), kRoundOne},
  };
}

std::vector<Write> visit_writes(const Workload& w, const WorkloadVisit& v,
                                const std::string& suffix, const std::string& inspector) {
  const std::string key = "visit/" + v.school_id + "/" + v.id + suffix;
  std::vector<Write> out =
      visit_start_writes(key, v.school_id, w.template_id, v.started_ms, inspector);
  for (std::size_t i = 0; i < w.items.size(); ++i) {
    Value value = v.answers[i];
    if (w.items[i].policy == Policy::kCounter && value.is_null()) value = Value::integer(0);
    out.push_back(Write{key, "a." + w.items[i].key, w.items[i].policy, std::move(value), 1});
  }
  return out;
}

Result<std::unique_ptr<BenchDeployment>> BenchDeployment::create(
    const std::string& dir, const Workload& w, const Assignments& assigned,
    const std::vector<std::string>& more_templates) {
  auto d = std::unique_ptr<BenchDeployment>(new BenchDeployment());
  d->dir_ = dir;
  const std::string hub = dir + "/hub";
  const std::string ca = dir + "/hub-ca";
  std::error_code ec;
  fs::remove_all(hub, ec);
  fs::remove_all(ca, ec);
  fs::create_directories(dir, ec);
  {
    Result<std::unique_ptr<Inspection>> in =
        Inspection::create(hub, "bench-hub", "hub", "admin", Role::kAdmin);
    if (!in.ok()) return in.status();
    std::set<std::string> schools;
    for (const WorkloadVisit& v : w.visits) schools.insert(v.school_id);
    for (const auto& [inspector, their_schools] : assigned)
      schools.insert(their_schools.begin(), their_schools.end());
    std::string csv =
        "school_id,name,city,county,township,level,boarding,students,teachers,lat,lon\n";
    for (const std::string& s : schools) {
      csv += s + ",Bench school " + s + ",Bench,Bench County,Town,primary,0,500,30,39.1,112.9\n";
    }
    std::string inspectors = "inspector_id,name,role,county\n";
    std::string assignments = "inspector_id,school_id,from,until\n";
    for (const auto& [inspector, their_schools] : assigned) {
      inspectors += inspector + ",Bench inspector " + inspector + ",inspector,Bench County\n";
      for (const std::string& s : their_schools) {
        assignments += inspector + "," + s + ",2000-01-01,2099-12-31\n";
      }
    }
    for (const auto& [kind, text] : {std::pair{ReferenceKind::kSchools, csv},
                                     std::pair{ReferenceKind::kInspectors, inspectors},
                                     std::pair{ReferenceKind::kAssignments, assignments}}) {
      Result<ImportReport> r = in.value()->import_reference(kind, text);
      if (!r.ok()) return r.status().annotate("bench reference data");
    }
    Result<Template> t = in.value()->publish_template(template_json(w));
    if (!t.ok()) return t.status().annotate("bench template");
    for (const std::string& more : more_templates) {
      Result<Template> m = in.value()->publish_template(more);
      if (!m.ok()) return m.status().annotate("bench template");
    }
    d->port_ = free_port();
    if (Status s = in.value()->engine().set_setting("hub_address",
                                                    "127.0.0.1:" + std::to_string(d->port_));
        !s.ok())
      return s;
  }
  if (Status s = create_hub_tls(hub, ca, "127.0.0.1"); !s.ok()) return s;
  Result<DeploymentCa> loaded = load_deployment_ca(ca);
  if (!loaded.ok()) return loaded.status();
  d->ca_ = std::move(loaded.value());
  Result<std::unique_ptr<HubStore>> store = HubStore::open(hub);
  if (!store.ok()) return store.status();
  d->store_ = std::move(store.value());
  return d;
}

BenchDeployment::~BenchDeployment() { (void)stop_hub(); }

Result<Enrollment> BenchDeployment::enroll(const std::string& inspector) {
  Result<DeviceRecord> d = store_->enroll_device(inspector);
  if (!d.ok()) return d.status();
  return make_enrollment(ca_, d.value(), "127.0.0.1", port_);
}

Result<std::pair<Enrollment, std::unique_ptr<Inspection>>> BenchDeployment::add_device(
    const std::string& name, const std::string& inspector) {
  Result<Enrollment> e = enroll(inspector);
  if (!e.ok()) return e.status();
  const std::string data = dir_ + "/" + name;
  std::error_code ec;
  fs::remove_all(data, ec);
  Result<std::unique_ptr<Inspection>> in =
      Inspection::create(data, e->device_id, "enrolled", inspector, Role::kInspector);
  if (!in.ok()) return in.status();
  return std::make_pair(e.value(), std::move(in.value()));
}

Status BenchDeployment::start_hub(const std::string& tools_dir) {
  const std::string binary = tools_dir + "/visitsync-hub";
  const std::string log = dir_ + "/hub.log";
  const std::string hub = dir_ + "/hub";
  const std::string listen = "127.0.0.1:" + std::to_string(port_);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args = {binary, "--data", hub, "--listen", listen};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::io("cannot start " + binary);
  hub_pid_ = pid;
  for (int i = 0; i < 500; ++i) {
    if (slurp(log).find("listening on") != std::string::npos) return Status();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::unavailable("the hub did not start: " + slurp(log));
}

double BenchDeployment::hub_peak_rss_mb() const {
  if (hub_pid_ <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(hub_pid_) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

BenchDeployment::Cpu BenchDeployment::hub_cpu() const {
  Cpu c;
  if (hub_pid_ <= 0) return c;
  const std::string proc = "/proc/" + std::to_string(hub_pid_);
  c.total_s = cpu_seconds(proc + "/stat");
  c.main_s = cpu_seconds(proc + "/task/" + std::to_string(hub_pid_) + "/stat");
  return c;
}

double BenchDeployment::hub_store_busy_s() const {
  const std::string log = slurp(dir_ + "/hub.log");
  const std::string tag = " store steps run in ";
  const std::size_t at = log.rfind(tag);
  if (at == std::string::npos) return -1;
  return std::strtod(log.c_str() + at + tag.size(), nullptr) / 1000;
}

Status BenchDeployment::stop_hub() {
  if (hub_pid_ <= 0) return Status();
  kill(hub_pid_, SIGTERM);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 500 && (done = waitpid(hub_pid_, &status, WNOHANG)) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (done == 0) {
    kill(hub_pid_, SIGKILL);
    waitpid(hub_pid_, &status, 0);
  }
  hub_pid_ = -1;
  return done > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0
             ? Status()
             : Status::internal("the hub did not stop cleanly");
}

}  // namespace vs::bench
