// The C API's calls on a data folder's content (visitsync.h): reference data, visits, flags,
// status, exports. Each checks its arguments, runs under the handle's lock, and renders JSON in
// the same form as the command line's --json (tools/cli/render.h).
#include <nlohmann/json.hpp>

#include <visitsync/transport/client.h>

#include "args.h"
#include "handle.h"
#include "render.h"

namespace {

using vs::Inspection;
using vs::Result;
using vs::Status;
using namespace vs::capi;

// OK when each of `args` (a name, then its value) is a valid string argument.
Status check_args(std::initializer_list<std::pair<const char*, const char*>> args) {
  for (const auto& [name, value] : args) {
    if (Status s = check_arg(value, name); !s.ok()) return s;
  }
  return Status();
}

nlohmann::json school_json(const vs::School& s) {
  return {{"id", s.id},
          {"name", s.name},
          {"city", s.city},
          {"county", s.county},
          {"township", s.township},
          {"level", s.level},
          {"boarding", s.boarding},
          {"students", s.students},
          {"teachers", s.teachers}};
}

}  // namespace

extern "C" {

vs_code vs_templates_json(vs_db* db, char** json, char** error) {
  return with_db("vs_templates_json", db, error, [&](Inspection& in) -> Status {
    Result<std::vector<std::shared_ptr<const vs::Template>>> all = in.templates();
    if (!all.ok()) return all.status();
    std::string out = "[";
    for (const auto& t : all.value()) out += (out.size() > 1 ? "," : "") + t->canonical;
    return give(json, out + "]", "json");
  });
}

vs_code vs_schools_json(vs_db* db, char** json, char** error) {
  return with_db("vs_schools_json", db, error, [&](Inspection& in) -> Status {
    Result<std::vector<std::string>> ids = in.assigned_schools(in.actor_id());
    if (!ids.ok()) return ids.status();
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& id : ids.value()) {
      Result<vs::School> s = in.school(id);
      if (!s.ok()) return s.status();
      out.push_back(school_json(s.value()));
    }
    return give(json, out.dump(), "json");
  });
}

vs_code vs_visit_start(vs_db* db, const char* school_id, const char* template_id, char** visit_id,
                       char** error) {
  return write_db("vs_visit_start", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_args({{"school_id", school_id}, {"template_id", template_id}}); !s.ok())
      return s;
    if (visit_id == nullptr) return Status::invalid_input("visit_id is NULL");
    Result<std::string> id = in.start_visit(school_id, template_id);
    if (!id.ok()) return id.status();
    return give(visit_id, id.value(), "visit_id");
  });
}

vs_code vs_visit_set(vs_db* db, const char* visit, const char* item, const char* value,
                     char** error) {
  return write_db("vs_visit_set", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_args({{"visit", visit}, {"item", item}, {"value", value}}); !s.ok())
      return s;
    return in.set_answer(visit, item, value);
  });
}

vs_code vs_visit_note(vs_db* db, const char* visit, const char* item, const char* text,
                      char** error) {
  return write_db("vs_visit_note", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_args({{"visit", visit}, {"item", item}, {"text", text}}); !s.ok())
      return s;
    return in.add_note(visit, item, text);
  });
}

vs_code vs_visit_submit(vs_db* db, const char* visit, char** error) {
  return write_db("vs_visit_submit", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_arg(visit, "visit"); !s.ok()) return s;
    return in.submit(visit);
  });
}

vs_code vs_visit_review(vs_db* db, const char* visit, const char* decision, const char* comment,
                        char** error) {
  return write_db("vs_visit_review", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_args({{"visit", visit}, {"decision", decision}}); !s.ok()) return s;
    if (Status s = check_optional_arg(comment, "comment"); !s.ok()) return s;
    return in.review(visit, decision, comment != nullptr ? comment : "");
  });
}

vs_code vs_visit_json(vs_db* db, const char* visit, char** json, char** error) {
  return with_db("vs_visit_json", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_arg(visit, "visit"); !s.ok()) return s;
    if (json == nullptr) return Status::invalid_input("json is NULL");
    Result<vs::VisitView> v = in.visit(visit);
    if (!v.ok()) return v.status();
    Result<vs::cli::VisitSyncs> syncs = vs::visit_sync_states(in.engine());
    if (!syncs.ok()) return syncs.status();
    const auto sync = syncs->find(v->id);
    return give(json,
                vs::cli::visit_json(v.value(), sync == syncs->end() ? nullptr : &sync->second),
                "json");
  });
}

vs_code vs_visits_json(vs_db* db, char** json, char** error) {
  return with_db("vs_visits_json", db, error, [&](Inspection& in) -> Status {
    if (json == nullptr) return Status::invalid_input("json is NULL");
    Result<std::vector<vs::VisitView>> visits = in.visits();
    if (!visits.ok()) return visits.status();
    Result<vs::cli::VisitSyncs> syncs = vs::visit_sync_states(in.engine());
    if (!syncs.ok()) return syncs.status();
    return give(json, vs::cli::visit_list_json(visits.value(), syncs.value()), "json");
  });
}

vs_code vs_conflicts_json(vs_db* db, char** json, char** error) {
  return with_db("vs_conflicts_json", db, error, [&](Inspection& in) -> Status {
    if (json == nullptr) return Status::invalid_input("json is NULL");
    Result<std::vector<vs::Flag>> flags = in.flags();
    if (!flags.ok()) return flags.status();
    return give(json, vs::cli::flags_json(flags.value()), "json");
  });
}

vs_code vs_resolve(vs_db* db, const char* visit, const char* item, const char* value,
                   char** error) {
  return write_db("vs_resolve", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_args({{"visit", visit}, {"item", item}, {"value", value}}); !s.ok())
      return s;
    return in.resolve(visit, item, value);
  });
}

vs_code vs_status_json(vs_db* db, char** json, char** error) {
  return with_db("vs_status_json", db, error, [&](Inspection& in) -> Status {
    if (json == nullptr) return Status::invalid_input("json is NULL");
    Result<vs::LocalStatus> st = in.status();
    if (!st.ok()) return st.status();
    Result<vs::cli::RefusedOps> refused = vs::refused_ops(in.engine());
    if (!refused.ok()) return refused.status();
    return give(json, vs::cli::status_json(st.value(), refused.value()), "json");
  });
}

vs_code vs_export(vs_db* db, const char* format, const char* template_id, const char* path,
                  char** error) {
  return with_db("vs_export", db, error, [&](Inspection& in) -> Status {
    if (Status s = check_args({{"format", format}, {"path", path}}); !s.ok()) return s;
    if (Status s = check_optional_arg(template_id, "template_id"); !s.ok()) return s;
    Result<vs::ExportFormat> f = vs::parse_export_format(format);
    if (!f.ok()) return f.status();
    Result<std::string> out =
        in.export_visits(f.value(), template_id != nullptr ? template_id : "");
    if (!out.ok()) return out.status();
    return vs::cli::write_file(path, out.value());
  });
}

}  // extern "C"
