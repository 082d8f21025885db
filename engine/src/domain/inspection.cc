// Inspection: the data folder, who acts on it, templates, reference lookups, attachments and
// the local status. Visits are in visits.cc, imports in reference.cc, exports in export.cc.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <unistd.h>

#include <visitsync/inspection.h>
#include <visitsync/photos.h>

#include "domain/inspection_impl.h"
#include "util/bytes.h"
#include "util/files.h"

namespace vs {
namespace {

namespace fs = std::filesystem;
using domain::kTemplatePrefix;

constexpr const char* kStoreFile = "visitsync.db";

Result<Role> parse_role(std::string_view s) {
  if (s == "inspector") return Role::kInspector;
  if (s == "supervisor") return Role::kSupervisor;
  if (s == "admin") return Role::kAdmin;
  return Status::invalid_input("unknown role '" + std::string(s) + "' (inspector, supervisor)");
}

}  // namespace

std::string_view role_name(Role r) {
  switch (r) {
    case Role::kInspector:
      return "inspector";
    case Role::kSupervisor:
      return "supervisor";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::string_view phase_name(Phase p) {
  switch (p) {
    case Phase::kDraft:
      return "draft";
    case Phase::kSubmitted:
      return "submitted";
    case Phase::kReturned:
      return "returned";
    case Phase::kApproved:
      return "approved";
  }
  return "unknown";
}

Result<ReferenceKind> parse_reference_kind(std::string_view name) {
  if (name == "schools") return ReferenceKind::kSchools;
  if (name == "inspectors") return ReferenceKind::kInspectors;
  if (name == "assignments") return ReferenceKind::kAssignments;
  return Status::invalid_input("unknown reference data '" + std::string(name) +
                               "' (schools, inspectors or assignments)");
}

Result<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "jsonl") return ExportFormat::kJsonl;
  if (name == "summary") return ExportFormat::kSummary;
  return Status::invalid_input("unknown export format '" + std::string(name) +
                               "' (csv, jsonl or summary)");
}

bool Answer::answered() const {
  if (item != nullptr && item->merge == Policy::kAppend) return !versions.empty();
  switch (value.kind()) {
    case Value::Kind::kNull:
      return false;
    case Value::Kind::kText:
      return !value.as_text().empty();
    case Value::Kind::kSet:
      return !value.as_set().empty();
    default:
      return true;
  }
}

Date Inspection::Impl::today() const {
  return Date{static_cast<std::int32_t>(clock->now_ms() / 86'400'000)};
}

std::string Inspection::Impl::now_iso() const {
  std::string s = format_hlc(make_hlc(static_cast<std::uint64_t>(clock->now_ms()), 0));
  return s.substr(0, 19) + "Z";  // to the second
}

std::string Inspection::Impl::text_of(const RecordView& r, std::string_view field) {
  const FieldView* f = r.find(field);
  return f != nullptr && f->value.kind() == Value::Kind::kText ? f->value.as_text() : std::string();
}

Result<std::shared_ptr<const Template>> Inspection::Impl::load_template(std::string_view id,
                                                                        int version) {
  const std::string key = domain::template_record(id, version);
  if (auto it = templates.find(key); it != templates.end()) return it->second;
  Result<std::optional<FieldView>> body = engine->read_field(key, "body");
  if (!body.ok()) return body.status();
  if (!body.value() || body.value()->value.kind() != Value::Kind::kText) {
    return Status::not_found("template " + std::string(id) + " version " + std::to_string(version) +
                             " is not published here");
  }
  Result<Template> t = parse_template(body.value()->value.as_text());
  if (!t.ok()) return t.status().annotate("stored template " + std::string(id));
  auto shared = std::make_shared<const Template>(std::move(t.value()));
  templates.emplace(key, shared);
  return shared;
}

Inspection::Inspection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Inspection::~Inspection() = default;

namespace {

// The store's path in a data folder: kInvalidInput for an empty name (which would be the
// current folder) or a path the file system refuses.
Result<std::string> store_path(const std::string& data_dir, bool& exists) {
  if (data_dir.empty()) return Status::invalid_input("the data folder's name is empty");
  const std::string path = (fs::path(data_dir) / kStoreFile).string();
  std::error_code ec;
  exists = fs::exists(path, ec);
  if (ec) return util::path_error(ec, path);
  return path;
}

}  // namespace

Result<std::string> Inspection::store_file(const std::string& data_dir) {
  bool exists = false;
  Result<std::string> where = store_path(data_dir, exists);
  if (where.ok() && !exists) {
    return Status::not_found(data_dir + " is not a visitsync data folder (no " + kStoreFile +
                             "; run visitsync init)");
  }
  return where;
}

Result<std::unique_ptr<Inspection>> Inspection::open(const std::string& data_dir, Clock* clock,
                                                     Durability durability) {
  Result<std::string> where = store_file(data_dir);
  if (!where.ok()) return where.status();
  const std::string& path = where.value();
  Options o;
  o.create_if_missing = false;
  o.clock = clock;
  o.durability = durability;
  Result<std::unique_ptr<Engine>> e = Engine::open(path, o);
  if (!e.ok()) return e.status();
  auto impl = std::make_unique<Impl>();
  impl->data_dir = data_dir;
  impl->engine = std::move(e.value());
  impl->clock = clock != nullptr ? clock : &system_clock();
  Result<std::string> mode = impl->engine->setting("mode");
  Result<std::string> actor = impl->engine->setting("actor");
  Result<std::string> role = impl->engine->setting("role");
  for (const Result<std::string>* r : {&mode, &actor, &role}) {
    if (!r->ok()) return r->status().annotated(data_dir);
  }
  if (mode.value().empty())
    return Status::invalid_input(data_dir + ": the store was never initialized");
  Result<Role> r = parse_role(role.value());
  if (!r.ok()) return r.status().annotate(data_dir);
  impl->mode = mode.value();
  impl->actor_id = actor.value();
  impl->role = r.value();
  return std::unique_ptr<Inspection>(new Inspection(std::move(impl)));
}

Result<std::unique_ptr<Inspection>> Inspection::create(const std::string& data_dir,
                                                       const std::string& device_id,
                                                       const std::string& mode,
                                                       const std::string& actor_id, Role role,
                                                       Clock* clock) {
  bool exists = false;
  Result<std::string> where = store_path(data_dir, exists);
  if (!where.ok()) return where.status();
  const std::string& path = where.value();
  if (exists) return Status::invalid_input(data_dir + " holds a visitsync store already");
  if (mode != "standalone" && mode != "enrolled" && mode != "hub") {
    return Status::invalid_input("unknown mode '" + mode + "'");
  }
  std::error_code ec;
  const bool new_folder = !fs::exists(data_dir, ec);
  if (!new_folder && !fs::is_directory(data_dir, ec)) {
    return Status::invalid_input(data_dir + ": not a folder");
  }
  if (ec) return util::path_error(ec, data_dir);
  fs::create_directories(photo_folder(data_dir), ec);
  if (ec) return util::path_error(ec, data_dir);
  // On failure, leave nothing behind: the folder if this made it, else the store's files.
  auto undo = [&](Status failed) {
    std::error_code ignored;
    if (new_folder) {
      fs::remove_all(data_dir, ignored);
    } else {
      for (const char* suffix : {"", "-wal", "-shm", "-journal"})
        fs::remove(path + suffix, ignored);
    }
    return failed;
  };
  Options o;
  o.device_id = device_id;
  o.clock = clock;
  Result<std::unique_ptr<Engine>> e = Engine::open(path, o);
  if (!e.ok()) return undo(e.status());
  Status s = e.value()->transaction([&]() -> Status {
    for (const auto& [k, v] : {std::pair<const char*, std::string>{"mode", mode},
                               {"actor", actor_id},
                               {"role", std::string(role_name(role))}}) {
      if (Status st = e.value()->set_setting(k, v); !st.ok()) return st;
    }
    return Status();
  });
  e.value().reset();
  if (!s.ok()) return undo(s);
  Result<std::unique_ptr<Inspection>> opened = open(data_dir, clock);
  if (!opened.ok()) return undo(opened.status());
  return opened;
}

Engine& Inspection::engine() { return *impl_->engine; }
const std::string& Inspection::data_dir() const { return impl_->data_dir; }
Role Inspection::role() const { return impl_->role; }
const std::string& Inspection::actor_id() const { return impl_->actor_id; }
const std::string& Inspection::mode() const { return impl_->mode; }

Status Inspection::set_actor(const std::string& actor_id, Role role) {
  Status s = impl_->engine->transaction([&]() -> Status {
    if (Status st = impl_->engine->set_setting("actor", actor_id); !st.ok()) return st;
    return impl_->engine->set_setting("role", role_name(role));
  });
  if (!s.ok()) return s;
  impl_->actor_id = actor_id;
  impl_->role = role;
  return Status();
}

void Inspection::act_as(const std::string& actor_id, Role role) {
  impl_->actor_id = actor_id;
  impl_->role = role;
}

Result<Template> Inspection::publish_template(std::string_view json) {
  Result<Template> t = parse_template(json);
  if (!t.ok()) return t.status();
  const std::string key = domain::template_record(t->id, t->version);
  Result<std::optional<FieldView>> existing = impl_->engine->read_field(key, "body");
  if (!existing.ok()) return existing.status();
  if (existing.value()) {
    if (existing.value()->value == Value::text(t->canonical)) return t;  // the same: a no-op
    return Status::invalid_input("template " + t->id + " version " + std::to_string(t->version) +
                                 " is published already with other content; a published version "
                                 "never changes: publish the change as version " +
                                 std::to_string(t->version + 1));
  }
  Result<OpId> id =
      impl_->engine->write(Write{key, "body", Policy::kLww, Value::text(t->canonical), 0});
  if (!id.ok()) return id.status();
  return t;
}

Result<std::map<std::string, int>> Inspection::Impl::newest_template_versions() {
  Result<std::vector<std::string>> keys = engine->records_with_prefix(kTemplatePrefix);
  if (!keys.ok()) return keys.status();
  std::map<std::string, int> newest;
  for (const std::string& key : keys.value()) {
    // template/<id>/<version, six digits>: keys sort by version within an id.
    const std::size_t slash = key.rfind('/');
    newest[key.substr(kTemplatePrefix.size(), slash - kTemplatePrefix.size())] =
        std::atoi(key.c_str() + slash + 1);
  }
  return newest;
}

Result<std::vector<std::shared_ptr<const Template>>> Inspection::templates() {
  Result<std::map<std::string, int>> newest = impl_->newest_template_versions();
  if (!newest.ok()) return newest.status();
  std::vector<std::shared_ptr<const Template>> out;
  for (const auto& [id, version] : newest.value()) {
    // One stored template this build cannot read (a newer format, say) leaves the others
    // usable; asking for it by name gives its error.
    Result<std::shared_ptr<const Template>> t = impl_->load_template(id, version);
    if (t.ok()) {
      out.push_back(t.value());
    } else if (!Impl::template_unavailable(t.status())) {
      return t.status();
    }
  }
  return out;
}

Result<std::shared_ptr<const Template>> Inspection::find_template(std::string_view id,
                                                                  int version) {
  if (version > 0) return impl_->load_template(id, version);
  Result<std::map<std::string, int>> newest = impl_->newest_template_versions();
  if (!newest.ok()) return newest.status();
  auto it = newest->find(std::string(id));
  if (it == newest->end())
    return Status::not_found("no template '" + std::string(id) + "' is published here");
  return impl_->load_template(id, it->second);
}

Result<School> Inspection::school(std::string_view id) {
  Result<RecordView> r = impl_->engine->read(domain::school_record(id));
  if (!r.ok()) {
    if (r.status().code() == Code::kNotFound)
      return Status::not_found("no school '" + std::string(id) + "'");
    return r.status();
  }
  School s;
  s.id = std::string(id);
  s.name = Impl::text_of(r.value(), "name");
  s.city = Impl::text_of(r.value(), "city");
  s.county = Impl::text_of(r.value(), "county");
  s.township = Impl::text_of(r.value(), "township");
  s.level = Impl::text_of(r.value(), "level");
  for (const FieldView& f : r->fields) {
    if (f.field == "boarding" && f.value.kind() == Value::Kind::kBool)
      s.boarding = f.value.as_bool();
    if (f.field == "students" && f.value.kind() == Value::Kind::kInteger)
      s.students = f.value.as_integer();
    if (f.field == "teachers" && f.value.kind() == Value::Kind::kInteger)
      s.teachers = f.value.as_integer();
    if (f.field == "location" && f.value.kind() == Value::Kind::kGps) s.location = f.value.as_gps();
  }
  return s;
}

Result<Inspector> Inspection::inspector(std::string_view id) {
  Result<RecordView> r = impl_->engine->read(domain::inspector_record(id));
  if (!r.ok()) {
    if (r.status().code() == Code::kNotFound)
      return Status::not_found("no inspector '" + std::string(id) + "'");
    return r.status();
  }
  Inspector p;
  p.id = std::string(id);
  p.name = Impl::text_of(r.value(), "name");
  p.county = Impl::text_of(r.value(), "county");
  Result<Role> role = parse_role(Impl::text_of(r.value(), "role"));
  p.role = role.ok() ? role.value() : Role::kInspector;
  return p;
}

namespace {

// The period of an assignment record: from `from` to `until`, both days included. An assignment
// imported without an end (an empty `until`) runs on. No period when the record is not (or not
// yet whole) an assignment.
struct Period {
  Date from;
  std::optional<Date> until;
  bool covers(Date d) const { return from.days <= d.days && (!until || d.days <= until->days); }
  std::string text() const {
    return format_date(from) + (until ? " to " + format_date(*until) : " with no end");
  }
};

std::optional<Period> period_of(const RecordView& r) {
  const FieldView* from = r.find("from");
  const FieldView* until = r.find("until");
  if (from == nullptr || until == nullptr || from->value.kind() != Value::Kind::kDate) return {};
  if (until->value.is_null()) return Period{from->value.as_date(), std::nullopt};
  if (until->value.kind() != Value::Kind::kDate) return {};
  return Period{from->value.as_date(), until->value.as_date()};
}

}  // namespace

Result<std::vector<std::string>> Inspection::assigned_schools(std::string_view inspector_id) {
  const std::string prefix = domain::assignment_record(inspector_id, "");
  Result<std::vector<std::string>> keys = impl_->engine->records_with_prefix(prefix);
  if (!keys.ok()) return keys.status();
  const Date today = impl_->today();
  std::vector<std::string> schools;
  for (const std::string& key : keys.value()) {
    Result<RecordView> r = impl_->engine->read(key);
    if (!r.ok()) return r.status();
    const std::optional<Period> p = period_of(r.value());
    if (p && p->covers(today)) schools.push_back(key.substr(prefix.size()));
  }
  return schools;
}

Status Inspection::Impl::check_assigned(std::string_view school_id) {
  Result<RecordView> r = engine->read(domain::assignment_record(actor_id, school_id));
  if (!r.ok() && r.status().code() != Code::kNotFound) return r.status();
  const std::string who =
      "inspector " + actor_id + " is not assigned to school " + std::string(school_id);
  const std::optional<Period> p = r.ok() ? period_of(r.value()) : std::nullopt;
  if (!p) return Status::invalid_input(who);
  const Date d = today();
  if (!p->covers(d)) {
    return Status::invalid_input(who + " today (" + format_date(d) + "); the assignment runs " +
                                 p->text());
  }
  return Status();
}

Result<std::string> Inspection::add_attachment(const std::string& path) {
  Result<std::string> bytes = util::read_regular_file(path, kMaxPhotoBytes);
  if (!bytes.ok()) return bytes.status();
  Result<std::string> id = add_photo(bytes.value());
  if (!id.ok()) return id.status().annotated(path);
  return id;
}

Result<std::string> Inspection::add_photo(std::string_view bytes) {
  if (bytes.size() > kMaxPhotoBytes)
    return Status::invalid_input("a photo of " + std::to_string(bytes.size()) + " bytes: at most " +
                                 std::to_string(kMaxPhotoBytes));
  if (photo_media_type(bytes).empty())
    return Status::invalid_input("not a JPEG, PNG or HEIC image");
  Result<std::unique_ptr<PhotoStore>> photos = PhotoStore::open(photo_folder(impl_->data_dir));
  if (!photos.ok()) return photos.status();
  return photos.value()->put(bytes);
}

Result<LocalStatus> Inspection::status() {
  LocalStatus st;
  st.device_id = impl_->engine->device_id();
  st.mode = impl_->mode;
  st.actor_id = impl_->actor_id;
  st.role = impl_->role;
  Result<EngineStats> es = impl_->engine->stats();
  if (!es.ok()) return es.status();
  st.engine = es.value();
  Status counted = impl_->each_visit([&](VisitView& v) {
    ++st.visits;
    ++st.visits_by_phase[static_cast<int>(v.status.phase)];
    st.flags += v.flags.size();
    st.photos_missing += v.photos_missing.size();
    return Status();
  });
  if (!counted.ok()) return counted;
  Result<std::uint64_t> acked = impl_->engine->counter("push.acked");
  if (!acked.ok()) return acked.status();
  st.unsynced_ops = st.engine.last_own_seq - std::min(acked.value(), st.engine.last_own_seq);
  return st;
}

}  // namespace vs
