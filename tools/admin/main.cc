// visitsync-admin: the hub administrator's command line (tools/COMMANDS.md). Parses
// arguments, calls the library, prints, and maps the Status to the exit code.
#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <visitsync/hub_store.h>
#include <visitsync/inspection.h>

#include "args.h"
#include "ca_commands.h"
#include "console_commands.h"
#include "render.h"
#include "sample.h"

namespace {

namespace fs = std::filesystem;
using vs::Result;
using vs::Status;
using vs::admin::cmd_enroll;
using vs::admin::cmd_enroll_request;
using vs::admin::cmd_enroll_sign;
using vs::admin::cmd_init;
using vs::cli::Args;

constexpr const char* kTool = "visitsync-admin";
constexpr std::size_t kMaxInputFile = 64u << 20;

void print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

Result<std::unique_ptr<vs::HubStore>> open_hub(const Args& a) {
  Result<std::string> dir = a.need("data");
  if (!dir.ok()) return dir.status();
  return vs::HubStore::open(dir.value());
}

Status cmd_import(const Args& a) {
  if (Status s = a.expect(2, "schools|inspectors|assignments FILE.csv"); !s.ok()) return s;
  Result<vs::ReferenceKind> kind = vs::parse_reference_kind(a.positional()[0]);
  if (!kind.ok()) return kind.status();
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  // The file is streamed: its limits are the CSV reader's (COMMANDS.md, "CSV files").
  Result<vs::ImportReport> r =
      hub.value()->inspection().import_reference_file(kind.value(), a.positional()[1]);
  if (!r.ok()) return r.status();
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

Status cmd_photo_limits(const Args& a) {
  if (Status s = a.expect(0, ""); !s.ok()) return s;
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  Result<vs::PhotoLimits> l = hub.value()->photo_limits();
  if (!l.ok()) return l.status();
  Result<std::int64_t> max_kb = a.number("max-kb", static_cast<std::int64_t>(l->max_bytes / 1024));
  if (!max_kb.ok()) return max_kb.status();
  Result<std::int64_t> quota_mb =
      a.number("quota-mb", static_cast<std::int64_t>(l->quota_bytes >> 20));
  if (!quota_mb.ok()) return quota_mb.status();
  if (a.get("max-kb") || a.get("quota-mb")) {
    constexpr std::int64_t kMaxKb = static_cast<std::int64_t>(vs::kMaxPhotoBytes / 1024);
    constexpr std::int64_t kMaxQuotaMb = std::int64_t{1} << 30;  // a pebibyte
    if (max_kb.value() < 1 || max_kb.value() > kMaxKb)
      return Status::invalid_input("--max-kb must be from 1 to " + std::to_string(kMaxKb) +
                                   ", not " + std::to_string(max_kb.value()));
    if (quota_mb.value() < 1 || quota_mb.value() > kMaxQuotaMb)
      return Status::invalid_input("--quota-mb must be from 1 to " + std::to_string(kMaxQuotaMb) +
                                   ", not " + std::to_string(quota_mb.value()));
    l->max_bytes = static_cast<std::uint64_t>(max_kb.value()) * 1024;
    l->quota_bytes = static_cast<std::uint64_t>(quota_mb.value()) << 20;
    if (Status s = hub.value()->set_photo_limits(l.value()); !s.ok()) return s;
  }
  std::string out = "each photo at most " + std::to_string(l->max_bytes / 1024) +
                    " KiB; each device's photos on the hub at most " +
                    std::to_string(l->quota_bytes >> 20) + " MiB\n";
  Result<std::vector<vs::DeviceRecord>> devices = hub.value()->devices();
  if (!devices.ok()) return devices.status();
  for (const vs::DeviceRecord& d : devices.value()) {
    Result<std::uint64_t> used = hub.value()->photo_bytes_of(d.device_id);
    if (!used.ok()) return used.status();
    out += "  " + d.device_id + ": " + std::to_string(used.value()) + " bytes\n";
  }
  print(out);
  return Status();
}

Status cmd_photo_gc(const Args& a) {
  if (Status s = a.expect(0, ""); !s.ok()) return s;
  Result<std::int64_t> days = a.number("grace-days", 7);
  if (!days.ok()) return days.status();
  if (days.value() < 0 || days.value() > 3650)
    return Status::invalid_input("--grace-days must be from 0 to 3650");
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  Result<vs::PhotoGarbage> g = hub.value()->collect_photo_garbage(days.value() * 86'400);
  if (!g.ok()) return g.status();
  std::uint64_t bytes = 0;
  for (const auto& [id, size] : g->removed) bytes += size;
  print("removed " + std::to_string(g->removed.size()) + " photos (" + std::to_string(bytes) +
        " bytes) and " + std::to_string(g->partials) + " partial transfers\n");
  return Status();
}

Status cmd_photo_get(const Args& a) {
  if (Status s = a.expect(1, "PHOTO"); !s.ok()) return s;
  Result<std::string> out = a.need("out");
  if (!out.ok()) return out.status();
  Result<std::unique_ptr<vs::HubStore>> hub = open_hub(a);
  if (!hub.ok()) return hub.status();
  return vs::cli::write_photo(hub.value()->inspection().data_dir(), a.positional()[0], out.value(),
                              "it has not arrived from the device that took it (visitsync-admin "
                              "export lists each visit's photos_missing)");
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
       "visitsync-admin init --data DIR --hub-address HOST:PORT [--ca CA_DIR]\n"
       "  Makes the hub's data folder: its store and, in DIR/tls, the hub's certificate for HOST\n"
       "  and key and the CA's certificate. Makes the deployment's certificate authority in\n"
       "  CA_DIR (default: DIR's name with -ca, beside it): the only place its private key is\n"
       "  kept. Devices will reach the hub at HOST:PORT.\n",
       {"data", "hub-address", "ca"},
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
       "visitsync-admin enroll-device --data DIR --inspector ID --out FILE [--ca CA_DIR]\n"
       "  Enrolls a new device for an inspector or supervisor and writes its enrollment file\n"
       "  (private key, certificate, CA, hub address; mode 0600), signed by the CA in CA_DIR\n"
       "  (default: DIR's name with -ca, beside it). Prints the device id.\n",
       {"data", "inspector", "out", "ca"},
       {},
       run<cmd_enroll>},
      {"enroll-request",
       "visitsync-admin enroll-request --data DIR --inspector ID --out FILE\n"
       "  Enrolls a new device and writes a request (no key) for enroll-sign to sign where the\n"
       "  CA is kept, on another machine. Prints the device id.\n",
       {"data", "inspector", "out"},
       {},
       run<cmd_enroll_request>},
      {"enroll-sign",
       "visitsync-admin enroll-sign --ca CA_DIR --request FILE --out FILE\n"
       "  Signs an enrollment request with the CA in CA_DIR and writes the device's enrollment\n"
       "  file (mode 0600). Needs no hub store. Prints the device id.\n",
       {"ca", "request", "out"},
       {},
       run<cmd_enroll_sign>},
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
      {"photo get",
       "visitsync-admin photo get --data DIR PHOTO --out FILE\n"
       "  Writes the photo PHOTO (its id, 64 hex digits) as the hub holds it to FILE.\n",
       {"data", "out"},
       {},
       run<cmd_photo_get>},
      {"photo limits",
       "visitsync-admin photo limits --data DIR [--max-kb N] [--quota-mb N]\n"
       "  Shows (or sets) the largest photo a device may upload, in KiB (at most 32768; a\n"
       "  template item's max_kb may be lower), and each device's quota of photo bytes on the\n"
       "  hub, in MiB (default 4096); and what each device's photos hold.\n",
       {"data", "max-kb", "quota-mb"},
       {},
       run<cmd_photo_limits>},
      {"photo gc",
       "visitsync-admin photo gc --data DIR [--grace-days N]\n"
       "  Removes the photo files no visit's answers name, untouched for N days (default 7),\n"
       "  and takes them off their senders' quotas.\n",
       {"data", "grace-days"},
       {},
       run<cmd_photo_gc>},
      {"console add",
       "visitsync-admin console add --data DIR NAME (--supervisor PERSON | --admin)\n"
       "                            [--password-stdin]\n"
       "  Makes (or resets) an account of the supervisor console: a supervisor (an imported\n"
       "  supervisor's id: they see and act within their county) or an administrator. Prints\n"
       "  a random initial password, or reads one line from stdin (12 to 256 bytes).\n",
       {"data", "supervisor"},
       {"admin", "password-stdin"},
       run<vs::admin::cmd_console_add>},
      {"console remove",
       "visitsync-admin console remove --data DIR NAME\n"
       "  Removes a console account; its sessions end at their next request.\n",
       {"data"},
       {},
       run<vs::admin::cmd_console_remove>},
      {"console list",
       "visitsync-admin console list --data DIR\n"
       "  Lists the console's accounts.\n",
       {"data"},
       {},
       run<vs::admin::cmd_console_list>},
      {"console metrics-token",
       "visitsync-admin console metrics-token --data DIR [--off]\n"
       "  Makes a new token for the console's /metrics (sent as Authorization: Bearer TOKEN)\n"
       "  and prints it once; the hub keeps only its SHA-256. --off turns token access off.\n",
       {"data"},
       {"off"},
       run<vs::admin::cmd_console_token>},
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
      "Every command takes --help, and all but sample and enroll-sign take --data DIR (the\n"
      "hub's data folder). Commands that sign certificates take --ca CA_DIR, the deployment\n"
      "CA's folder. Exit codes: 0 ok, 2 bad input or usage, 1 internal error.\n");
}
