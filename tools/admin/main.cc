// visitsync-admin: the hub administrator's command line (tools/COMMANDS.md). Parses
// arguments, calls the library, prints, and maps the Status to the exit code.
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <visitsync/hub_store.h>
#include <visitsync/inspection.h>
#include <visitsync/transport/deployment.h>

#include "args.h"
#include "render.h"
#include "sample.h"

namespace {

namespace fs = std::filesystem;
using vs::Result;
using vs::Status;
using vs::cli::Args;

constexpr const char* kTool = "visitsync-admin";
constexpr std::size_t kMaxInputFile = 64u << 20;

void print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

Result<std::unique_ptr<vs::HubStore>> open_hub(const Args& a) {
  Result<std::string> dir = a.need("data");
  if (!dir.ok()) return dir.status();
  return vs::HubStore::open(dir.value());
}

Status cmd_init(const Args& a) {
  Result<std::string> dir = a.need("data");
  Result<std::string> address = a.need("hub-address");
  if (!dir.ok()) return dir.status();
  if (!address.ok()) return address.status();
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::pair<std::string, std::uint16_t>> hp = vs::parse_host_port(address.value());
  if (!hp.ok()) return hp.status().annotated("--hub-address");
  if (hp->second == 0)
    return Status::invalid_input("--hub-address: the port must not be 0 (devices need it)");
  const bool existed = fs::exists(dir.value());
  std::random_device rd;
  const std::string hub_id = "hub-" + std::to_string(rd() % 1000000);
  Result<std::unique_ptr<vs::Inspection>> in =
      vs::Inspection::create(dir.value(), hub_id, "hub", "admin", vs::Role::kAdmin);
  if (!in.ok()) return in.status();
  Status s = in.value()->engine().set_setting("hub_address", address.value());
  in.value().reset();
  if (s.ok()) s = vs::create_hub_tls(dir.value(), hp->first);
  if (s.ok()) s = vs::HubStore::open(dir.value()).status();
  if (!s.ok()) {
    std::error_code ec;
    if (!existed) fs::remove_all(dir.value(), ec);
    return s;
  }
  print("initialized hub " + hub_id + " in " + dir.value() + " for " + address.value() +
        ": deployment CA and hub certificate in " + (fs::path(dir.value()) / "tls").string() +
        "\n");
  return Status();
}

Status cmd_import(const Args& a) {
  if (Status s = a.expect(2, "schools|inspectors|assignments FILE.csv"); !s.ok()) return s;
  Result<vs::ReferenceKind> kind = vs::parse_reference_kind(a.positional()[0]);
  if (!kind.ok()) return kind.status();
  Result<std::string> csv = vs::cli::read_file(a.positional()[1], kMaxInputFile);
  if (!csv.ok()) return csv.status();
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  Result<vs::ImportReport> r =
      hub.value()->inspection().import_reference(kind.value(), csv.value());
  if (!r.ok()) return r.status().annotate(a.positional()[1]);
  print("imported " + std::to_string(r->rows) + " " + a.positional()[0] + ": " +
        std::to_string(r->created) + " new, " + std::to_string(r->updated) + " updated, " +
        std::to_string(r->unchanged) + " unchanged\n");
  return Status();
}

Status cmd_template_publish(const Args& a) {
  if (Status s = a.expect(1, "FILE.json"); !s.ok()) return s;
  Result<std::string> json = vs::cli::read_file(a.positional()[0], kMaxInputFile);
  if (!json.ok()) return json.status();
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  Result<vs::Template> t = hub.value()->inspection().publish_template(json.value());
  if (!t.ok()) return t.status().annotate(a.positional()[0]);
  print("published " + t->id + " version " + std::to_string(t->version) + " (" +
        std::to_string(t->items().size()) + " items)\n");
  return Status();
}

Status cmd_enroll(const Args& a) {
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::string> inspector = a.need("inspector");
  Result<std::string> out = a.need("out");
  if (!inspector.ok()) return inspector.status();
  if (!out.ok()) return out.status();
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  Result<std::string> address = hub.value()->engine().setting("hub_address");
  if (!address.ok()) return address.status();
  Result<std::pair<std::string, std::uint16_t>> hp = vs::parse_host_port(address.value());
  if (!hp.ok()) return hp.status().annotated("the hub's recorded address");
  // Enrolled only once the file is written: a failed write leaves no device behind.
  vs::HubStore& store = *hub.value();
  Status s = store.engine().transaction([&]() -> Status {
    Result<vs::DeviceRecord> d = store.enroll_device(inspector.value());
    if (!d.ok()) return d.status();
    Result<vs::Enrollment> e =
        vs::make_enrollment(*a.get("data"), d.value(), hp->first, hp->second);
    if (!e.ok()) return e.status();
    if (Status w = vs::write_enrollment_file(out.value(), e.value()); !w.ok()) return w;
    print(d->device_id + "\n");
    return Status();
  });
  return s;
}

Status cmd_revoke(const Args& a) {
  if (Status s = a.expect(1, "DEVICE"); !s.ok()) return s;
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  if (Status s = hub.value()->revoke_device(a.positional()[0]); !s.ok()) return s;
  print("revoked " + a.positional()[0] + "\n");
  return Status();
}

Status cmd_devices(const Args& a) {
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  Result<std::vector<vs::DeviceRecord>> ds = hub.value()->devices();
  if (!ds.ok()) return ds.status();
  for (const vs::DeviceRecord& d : ds.value()) {
    print(d.device_id + "  " + d.inspector_id + " (" + std::string(vs::role_name(d.role)) +
          ")  acked seq " + std::to_string(d.acked_seq) + (d.revoked ? "  REVOKED" : "") + "\n");
  }
  return Status();
}

Status cmd_review(const Args& a) {
  if (Status s = a.expect(2, "VISIT approve|return"); !s.ok()) return s;
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  return hub.value()->inspection().review(a.positional()[0], a.positional()[1],
                                          a.get("comment").value_or(""));
}

Status cmd_conflicts(const Args& a) {
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  Result<std::vector<vs::Flag>> flags = hub.value()->inspection().flags();
  if (!flags.ok()) return flags.status();
  print(a.has("json") ? vs::cli::flags_json(flags.value()) : vs::cli::flags_text(flags.value()));
  return Status();
}

Status cmd_export(const Args& a) {
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::string> format = a.need("format");
  if (!format.ok()) return format.status();
  Result<vs::ExportFormat> f = vs::parse_export_format(format.value());
  if (!f.ok()) return f.status();
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  Result<std::string> out =
      hub.value()->inspection().export_visits(f.value(), a.get("template").value_or(""));
  if (!out.ok()) return out.status();
  if (auto path = a.get("out")) return vs::cli::write_file(*path, out.value());
  print(out.value());
  return Status();
}

Status cmd_sample(const Args& a) {
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::string> out = a.need("out");
  if (!out.ok()) return out.status();
  vs::admin::SampleSpec spec;
  Result<std::int64_t> schools = a.number("schools", spec.schools);
  Result<std::int64_t> inspectors = a.number("inspectors", spec.inspectors);
  Result<std::int64_t> counties = a.number("counties", spec.counties);
  Result<std::int64_t> seed = a.number("seed", static_cast<std::int64_t>(spec.seed));
  for (const auto* r : {&schools, &inspectors, &counties, &seed})
    if (!r->ok()) return r->status();
  spec.schools = schools.value();
  spec.inspectors = inspectors.value();
  spec.counties = counties.value();
  if (seed.value() < 0) return Status::invalid_input("--seed: must not be negative");
  spec.seed = static_cast<std::uint64_t>(seed.value());
  spec.from = a.get("from").value_or(spec.from);
  Result<vs::admin::SampleFiles> files = vs::admin::make_sample(spec);
  if (!files.ok()) return files.status();
  std::error_code ec;
  fs::create_directories(out.value(), ec);
  if (ec) return Status::invalid_input("--out: cannot make " + out.value() + ": " + ec.message());
  const fs::path dir(out.value());
  for (const auto& [name, text] :
       {std::pair{"schools.csv", &files->schools}, std::pair{"inspectors.csv", &files->inspectors},
        std::pair{"assignments.csv", &files->assignments}}) {
    if (Status s = vs::cli::write_file((dir / name).string(), *text); !s.ok()) return s;
  }
  print("wrote " + std::to_string(spec.schools) + " schools, " + std::to_string(spec.inspectors) +
        " inspectors (" + std::to_string(spec.counties) +
        " supervisors) and their assignments to " + out.value() + "\n");
  return Status();
}

// A command that returns a Status, run as one that returns the exit code.
template <Status (*Fn)(const Args&)>
int run(const Args& a) {
  return vs::cli::finish(kTool, Fn(a));
}

const std::vector<vs::cli::Command>& commands() {
  static const std::vector<vs::cli::Command> kCommands = {
      {"init",
       "visitsync-admin init --data DIR --hub-address HOST:PORT\n"
       "  Makes the hub's data folder: its store, the deployment's certificate authority and the\n"
       "  hub's certificate for HOST. Devices will reach the hub at HOST:PORT.\n",
       {"data", "hub-address"},
       {},
       run<cmd_init>},
      {"import",
       "visitsync-admin import --data DIR schools|inspectors|assignments FILE.csv\n"
       "  Imports reference data: every row or none; bad rows are listed with their line "
       "numbers.\n",
       {"data"},
       {},
       run<cmd_import>},
      {"template publish",
       "visitsync-admin template publish --data DIR FILE.json\n"
       "  Publishes a checklist template. A published version never changes.\n",
       {"data"},
       {},
       run<cmd_template_publish>},
      {"enroll-device",
       "visitsync-admin enroll-device --data DIR --inspector ID --out FILE\n"
       "  Enrolls a new device for an inspector or supervisor and writes its enrollment file\n"
       "  (private key, certificate, CA, hub address; mode 0600). Prints the device id.\n",
       {"data", "inspector", "out"},
       {},
       run<cmd_enroll>},
      {"revoke-device",
       "visitsync-admin revoke-device --data DIR DEVICE\n"
       "  Refuses the device from now on; what it synced before stays.\n",
       {"data"},
       {},
       run<cmd_revoke>},
      {"devices",
       "visitsync-admin devices --data DIR\n"
       "  Lists enrolled devices.\n",
       {"data"},
       {},
       run<cmd_devices>},
      {"review",
       "visitsync-admin review --data DIR VISIT approve|return [--comment TEXT]\n"
       "  Decides on a submitted visit.\n",
       {"data", "comment"},
       {},
       run<cmd_review>},
      {"conflicts",
       "visitsync-admin conflicts --data DIR [--json]\n"
       "  Lists flagged items of every visit.\n",
       {"data"},
       {"json"},
       run<cmd_conflicts>},
      {"sample",
       "visitsync-admin sample --out DIR [--schools N] [--inspectors K] [--counties C]\n"
       "                       [--seed S] [--from YYYY-MM-DD]\n"
       "  Writes a reference data set to DIR: schools.csv, inspectors.csv and assignments.csv,\n"
       "  ready for import. The same options give the same files. Defaults: 60 schools, 24\n"
       "  inspectors, 10 counties, seed 1, assignments from 2026-09-01 with no end. School i and\n"
       "  inspector j are in county (i-1) mod C and (j-1) mod C; I0001 to I<C> are the counties'\n"
       "  supervisors; each school is assigned to two of its county's inspectors, in turn.\n"
       "  schema/sample/ is this command's output with the defaults.\n",
       {"out", "schools", "inspectors", "counties", "seed", "from"},
       {},
       run<cmd_sample>},
      {"export",
       "visitsync-admin export --data DIR --format csv|jsonl|summary [--template ID] [--out FILE]\n"
       "  Exports the hub's visits (see visitsync export --help).\n",
       {"data", "format", "template", "out"},
       {},
       run<cmd_export>},
  };
  return kCommands;
}

}  // namespace

int main(int argc, char** argv) {
  return vs::cli::dispatch(
      kTool, commands(), argc, argv,
      "Every command takes --data DIR and --help. Exit codes: 0 ok, 2 bad input or usage,\n"
      "1 internal error.\n");
}
