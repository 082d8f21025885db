// visitsync: the device command line (tools/COMMANDS.md). Parses arguments, calls the
// library, prints, and maps the Status to the exit code.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <visitsync/inspection.h>
#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>

#include "args.h"
#include "commands.h"
#include "render.h"

namespace vs::device_cli {

int with_data(const cli::Args& a, const std::function<Status(Inspection&)>& body) {
  Result<std::string> dir = a.need("data");
  Result<std::unique_ptr<Inspection>> in =
      dir.ok() ? Inspection::open(dir.value()) : Result<std::unique_ptr<Inspection>>(dir.status());
  if (!in.ok()) return cli::fail("visitsync", in.status());
  return cli::finish("visitsync", body(*in.value()));
}

}  // namespace vs::device_cli

namespace {

namespace fs = std::filesystem;
using vs::Result;
using vs::Status;
using vs::cli::Args;

constexpr const char* kTool = "visitsync";
constexpr std::size_t kMaxInputFile = 64u << 20;

int print(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  return 0;
}

using vs::device_cli::with_data;

std::string new_device_id() {
  std::random_device rd;
  char buf[32];
  std::snprintf(buf, sizeof buf, "dev-%08x%04x", rd(), rd() & 0xFFFF);
  return buf;
}

Status import_dir(vs::Inspection& in, const std::string& reference, const std::string& templates) {
  for (const char* kind : {"schools", "inspectors", "assignments"}) {
    const std::string path = (fs::path(reference) / (std::string(kind) + ".csv")).string();
    Result<vs::ImportReport> r = in.import_reference_file(*vs::parse_reference_kind(kind), path);
    if (!r.ok()) return r.status();
  }
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(templates, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  if (ec) return Status::invalid_input(templates + ": " + ec.message());
  if (files.empty()) return Status::invalid_input(templates + ": no template (*.json) in it");
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    Result<std::string> json = vs::cli::read_file(f.string(), kMaxInputFile);
    if (!json.ok()) return json.status();
    Result<vs::Template> t = in.publish_template(json.value());
    if (!t.ok()) return t.status().annotate(f.string());
  }
  return Status();
}

int cmd_init_enrolled(const Args& a) {
  Result<std::string> dir = a.need("data");
  if (!dir.ok()) return vs::cli::fail(kTool, dir.status());
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return vs::cli::fail(kTool, s);
  for (const char* o : {"inspector", "reference", "templates"}) {
    if (a.get(o)) {
      return vs::cli::fail(kTool, Status::invalid_input(std::string("--") + o +
                                                        " goes with --standalone, not --enroll"));
    }
  }
  Result<vs::Enrollment> e = vs::read_enrollment_file(*a.get("enroll"));
  if (!e.ok()) return vs::cli::fail(kTool, e.status());
  if (struct stat st{}; ::stat(a.get("enroll")->c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    std::fprintf(stderr,
                 "%s: warning: %s can be read by other users, and it holds this device's key: "
                 "delete it once init is done\n",
                 kTool, a.get("enroll")->c_str());
  }
  Result<std::unique_ptr<vs::Inspection>> in = vs::create_enrolled_folder(dir.value(), e.value());
  if (!in.ok()) return vs::cli::fail(kTool, in.status());
  std::printf("initialized %s: device %s of %s %s, hub %s:%u (run visitsync sync)\n",
              dir.value().c_str(), e->device_id.c_str(), e->role.c_str(), e->inspector_id.c_str(),
              e->hub_host.c_str(), static_cast<unsigned>(e->hub_port));
  return 0;
}

int cmd_init(const Args& a) {
  if (a.get("enroll")) {
    if (a.has("standalone")) {
      return vs::cli::fail(kTool,
                           Status::invalid_input("init takes --standalone or --enroll, not both"));
    }
    return cmd_init_enrolled(a);
  }
  if (!a.has("standalone"))
    return vs::cli::fail(kTool,
                         Status::invalid_input("init needs --standalone (or --enroll FILE)"));
  Result<std::string> dir = a.need("data");
  Result<std::string> inspector = a.need("inspector");
  Result<std::string> reference = a.need("reference");
  Result<std::string> templates = a.need("templates");
  for (const auto* r : {&dir, &inspector, &reference, &templates}) {
    if (!r->ok()) return vs::cli::fail(kTool, r->status());
  }
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return vs::cli::fail(kTool, s);
  std::error_code ec;
  const bool existed = fs::exists(dir.value(), ec);  // a bad path: create() says why
  Result<std::unique_ptr<vs::Inspection>> in = vs::Inspection::create(
      dir.value(), new_device_id(), "standalone", inspector.value(), vs::Role::kInspector);
  if (!in.ok()) return vs::cli::fail(kTool, in.status());
  Status s = import_dir(*in.value(), reference.value(), templates.value());
  if (s.ok()) {
    Result<vs::Inspector> me = in.value()->inspector(inspector.value());
    s = me.ok() ? in.value()->set_actor(me->id, me->role) : me.status().annotated("--inspector");
  }
  if (!s.ok()) {
    in.value().reset();
    vs::discard_data_folder(dir.value(), existed);
    return vs::cli::fail(kTool, s);
  }
  std::printf("initialized %s: standalone device %s for %s %s\n", dir.value().c_str(),
              in.value()->engine().device_id().c_str(),
              std::string(vs::role_name(in.value()->role())).c_str(), inspector.value().c_str());
  return 0;
}

int cmd_visit_start(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    Result<std::string> school = a.need("school");
    Result<std::string> tmpl = a.need("template");
    if (!school.ok()) return school.status();
    if (!tmpl.ok()) return tmpl.status();
    if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
    Result<std::string> id = in.start_visit(school.value(), tmpl.value());
    if (!id.ok()) return id.status();
    print(id.value() + "\n");
    return Status();
  });
}

// Photo items take files: each path is stored as an attachment and replaced by its id.
Result<std::string> photo_ids(vs::Inspection& in, const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string part = text.substr(start, comma - start);
    std::error_code ec;
    const bool file = fs::exists(part, ec);
    if (ec) return Status::invalid_input(part + ": " + ec.message());
    if (file) {
      Result<std::string> id = in.add_attachment(part);
      if (!id.ok()) return id.status();
      part = id.value();
    }
    out += (out.empty() ? "" : ",") + part;
    start = comma + 1;
  }
  return out;
}

int cmd_visit_set(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    if (Status s = a.expect(3, "VISIT ITEM VALUE"); !s.ok()) return s;
    const auto& p = a.positional();
    std::string value = p[2];
    Result<vs::VisitView> v = in.visit(p[0]);
    if (!v.ok()) return v.status();
    if (v->checklist) {
      const vs::Item* item = v->checklist->find(p[1]);
      if (item != nullptr && item->type == vs::ItemType::kPhoto && !value.empty()) {
        Result<std::string> ids = photo_ids(in, value);
        if (!ids.ok()) return ids.status();
        value = ids.value();
      }
    }
    return in.set_answer(p[0], p[1], value);
  });
}

int cmd_visit_note(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    if (Status s = a.expect(3, "VISIT ITEM TEXT"); !s.ok()) return s;
    return in.add_note(a.positional()[0], a.positional()[1], a.positional()[2]);
  });
}

int cmd_visit_submit(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    if (Status s = a.expect(1, "VISIT"); !s.ok()) return s;
    if (Status s = in.submit(a.positional()[0]); !s.ok()) return s;
    print("submitted\n");
    return Status();
  });
}

int cmd_visit_review(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    if (Status s = a.expect(2, "VISIT approve|return"); !s.ok()) return s;
    return in.review(a.positional()[0], a.positional()[1], a.get("comment").value_or(""));
  });
}

int cmd_visit_show(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    if (Status s = a.expect(1, "VISIT"); !s.ok()) return s;
    Result<vs::VisitView> v = in.visit(a.positional()[0]);
    if (!v.ok()) return v.status();
    Result<vs::cli::VisitSyncs> syncs = vs::visit_sync_states(in.engine());
    if (!syncs.ok()) return syncs.status();
    const auto sync = syncs->find(v->id);
    const vs::VisitSync* state = sync == syncs->end() ? nullptr : &sync->second;
    if (a.has("json")) {
      print(vs::cli::visit_json(v.value(), state));
      return Status();
    }
    // A school not held here is left out; one that cannot be read fails the command.
    Result<vs::School> school = in.school(v->school_id);
    if (!school.ok() && school.status().code() != vs::Code::kNotFound) return school.status();
    print(vs::cli::visit_text(v.value(), school.ok() ? &school.value() : nullptr, state));
    return Status();
  });
}

int cmd_visit_history(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    if (Status s = a.expect(1, "VISIT"); !s.ok()) return s;
    Result<std::vector<vs::Change>> h = in.history(a.positional()[0]);
    if (!h.ok()) return h.status();
    print(a.has("json") ? vs::cli::history_json(h.value()) : vs::cli::history_text(h.value()));
    return Status();
  });
}

int cmd_visit_list(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
    Result<std::vector<vs::VisitView>> visits = in.visits();
    if (!visits.ok()) return visits.status();
    Result<vs::cli::VisitSyncs> syncs = vs::visit_sync_states(in.engine());
    if (!syncs.ok()) return syncs.status();
    print(a.has("json") ? vs::cli::visit_list_json(visits.value(), syncs.value())
                        : vs::cli::visit_list_text(visits.value(), syncs.value()));
    return Status();
  });
}

int cmd_conflicts(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
    Result<std::vector<vs::Flag>> flags = in.flags();
    if (!flags.ok()) return flags.status();
    print(a.has("json") ? vs::cli::flags_json(flags.value()) : vs::cli::flags_text(flags.value()));
    return Status();
  });
}

int cmd_resolve(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    if (Status s = a.expect(3, "VISIT ITEM VALUE"); !s.ok()) return s;
    return in.resolve(a.positional()[0], a.positional()[1], a.positional()[2]);
  });
}

int cmd_export(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
    Result<std::string> format = a.need("format");
    if (!format.ok()) return format.status();
    Result<vs::ExportFormat> f = vs::parse_export_format(format.value());
    if (!f.ok()) return f.status();
    Result<std::string> out = in.export_visits(f.value(), a.get("template").value_or(""));
    if (!out.ok()) return out.status();
    if (auto path = a.get("out")) return vs::cli::write_file(*path, out.value());
    print(out.value());
    return Status();
  });
}

int cmd_status(const Args& a) {
  return with_data(a, [&](vs::Inspection& in) -> Status {
    if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
    Result<vs::LocalStatus> st = in.status();
    if (!st.ok()) return st.status();
    Result<vs::cli::RefusedOps> refused = vs::refused_ops(in.engine());
    if (!refused.ok()) return refused.status();
    print(a.has("json") ? vs::cli::status_json(st.value(), refused.value())
                        : vs::cli::status_text(st.value(), refused.value()));
    return Status();
  });
}

const std::vector<vs::cli::Command>& commands() {
  static const std::vector<vs::cli::Command> kCommands = {
      {"init",
       "visitsync init --data DIR --standalone --inspector ID --reference DIR --templates DIR\n"
       "  Makes a new data folder for a device that works alone: imports schools.csv,\n"
       "  inspectors.csv and assignments.csv from --reference, publishes every *.json\n"
       "  template of --templates, and acts as inspector (or supervisor) ID.\n"
       "visitsync init --data DIR --enroll FILE   (a device enrolled by visitsync-admin)\n",
       {"data", "inspector", "reference", "templates", "enroll"},
       {"standalone"},
       cmd_init},
      {"visit start",
       "visitsync visit start --data DIR --school ID --template ID\n"
       "  Starts a visit of a school assigned to you, with the newest version of the template.\n"
       "  Prints the new visit's id.\n",
       {"data", "school", "template"},
       {},
       cmd_visit_start},
      {"visit set",
       "visitsync visit set --data DIR VISIT ITEM VALUE\n"
       "  Sets an answer, checked against the item: yes_no yes|no; integer and decimal as\n"
       "  written; date YYYY-MM-DD; choice an option key; multi_choice keys separated by\n"
       "  commas; gps LAT,LON[,ACCURACY_M]; text as given; photo image files (or photo ids)\n"
       "  separated by commas. A counter item takes a total (5) or a change (+1, -2).\n"
       "  VISIT is the id or its first 6 or more characters.\n",
       {"data"},
       {},
       cmd_visit_set},
      {"visit note",
       "visitsync visit note --data DIR VISIT ITEM TEXT\n"
       "  Appends a note to a notes item (a text item merged by append).\n",
       {"data"},
       {},
       cmd_visit_note},
      {"visit submit",
       "visitsync visit submit --data DIR VISIT\n"
       "  Submits the visit for review; refused, with the list, while required items are\n"
       "  unanswered. Answers are locked until a supervisor returns the visit.\n",
       {"data"},
       {},
       cmd_visit_submit},
      {"visit review",
       "visitsync visit review --data DIR VISIT approve|return [--comment TEXT]\n"
       "  A supervisor's decision on a submitted visit of their county.\n",
       {"data", "comment"},
       {},
       cmd_visit_review},
      {"visit show",
       "visitsync visit show --data DIR VISIT [--json]\n"
       "  Shows a visit: answers by section, findings, conflicts, reviews.\n",
       {"data"},
       {"json"},
       cmd_visit_show},
      {"visit history",
       "visitsync visit history --data DIR VISIT [--json]\n"
       "  Every change to the visit's answers, status and reviews, oldest first: when, by whom\n"
       "  (on which device), the item, the values it replaced and the value written.\n",
       {"data"},
       {"json"},
       cmd_visit_history},
      {"visit list",
       "visitsync visit list --data DIR [--json]\n"
       "  Lists the visits on this device.\n",
       {"data"},
       {"json"},
       cmd_visit_list},
      {"conflicts",
       "visitsync conflicts --data DIR [--json]\n"
       "  Lists flagged items: concurrent values that differ, changes made concurrently with a\n"
       "  submission, and decisions made concurrently.\n",
       {"data"},
       {"json"},
       cmd_conflicts},
      {"resolve",
       "visitsync resolve --data DIR VISIT ITEM VALUE\n"
       "  Settles a flagged item with VALUE (for the status: approve or return; for a\n"
       "  counter: the total decided, or +N/-N; \"\" accepts late notes or increments as they\n"
       "  are).\n",
       {"data"},
       {},
       cmd_resolve},
      {"sync",
       "visitsync sync --data DIR [--retry-for SECONDS]\n"
       "  Pushes this device's changes to the hub and pulls what is new, then prints a\n"
       "  summary. Exits 3 when the hub cannot be reached, 4 when it refuses this device or\n"
       "  any of the ops pushed (they stay on this device; `status` lists them).\n"
       "  --retry-for: when the link fails, tries again by itself (waiting 2 s, then twice as\n"
       "  long each time, up to a minute, with jitter) until a sync succeeds or SECONDS pass.\n",
       {"data", "retry-for"},
       {},
       vs::device_cli::cmd_sync},
      {"export",
       "visitsync export --data DIR --format csv|jsonl|summary [--template ID] [--out FILE]\n"
       "  csv: one row per visit, one column per item (UTF-8 with a byte-order mark);\n"
       "  jsonl: one JSON object per visit; summary: visits, findings and open conflicts per\n"
       "  school and per county.\n",
       {"data", "format", "template", "out"},
       {},
       cmd_export},
      {"photo get",
       "visitsync photo get --data DIR PHOTO --out FILE\n"
       "  Writes the photo PHOTO (its id, 64 hex digits) of this data folder to FILE.\n",
       {"data", "out"},
       {},
       vs::device_cli::cmd_photo_get},
      {"photo fetch",
       "visitsync photo fetch --data DIR PHOTO\n"
       "  Asks the hub for photo PHOTO, which a visit on this device names: the next sync\n"
       "  fetches it (and resumes a fetch that was cut).\n",
       {"data"},
       {},
       vs::device_cli::cmd_photo_fetch},
      {"photo downloads",
       "visitsync photo downloads --data DIR [eager|lazy]\n"
       "  Shows or sets which photos a sync fetches: eager, every photo this device's visits\n"
       "  name (a supervisor's tablet at the office); lazy (the default), those asked for.\n",
       {"data"},
       {},
       vs::device_cli::cmd_photo_downloads},
      {"photo gc",
       "visitsync photo gc --data DIR [--grace-days N]\n"
       "  Removes the photo files nothing needs any more (no visit's answer names them, none\n"
       "  waits to be sent or is asked for) untouched for N days (default 7).\n",
       {"data", "grace-days"},
       {},
       vs::device_cli::cmd_photo_gc},
      {"repair",
       "visitsync repair --data DIR\n"
       "  Rebuilds a damaged store from what of it can still be read (this device's own\n"
       "  changes first), keeps the damaged one beside it, and says what was lost. An\n"
       "  enrolled device's next sync fetches the rest again from the hub.\n",
       {"data"},
       {},
       vs::device_cli::cmd_repair},
      {"status",
       "visitsync status --data DIR [--json]\n"
       "  This device: its id and mode, who acts on it, visits, conflicts, unsynced changes.\n",
       {"data"},
       {"json"},
       cmd_status},
  };
  return kCommands;
}

}  // namespace

int main(int argc, char** argv) {
  return vs::cli::dispatch(
      kTool, commands(), argc, argv,
      "Every command takes --data DIR and --help. Exit codes: 0 ok, 2 bad input or\n"
      "usage, 3 network or sync failure (retry), 4 refused by the hub, 1 internal error.\n");
}
