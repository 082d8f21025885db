// One visit: answers by section with photos, findings, flags with each concurrent value and
// buttons to settle, reviews and the decision form, and the history of every answer. And the
// actions its forms post, each made as the signed-in person by the same rules as their device.
#include <algorithm>
#include <map>

#include <visitsync/photos.h>

#include "console/html.h"
#include "console/pages.h"

namespace vs::console {
namespace {

std::string when(Hlc h) { return format_hlc(h).substr(0, 19) + "Z"; }

// Who wrote with a device: its person when the hub enrolled it; the hub's own ops are the
// console's and visitsync-admin's.
using People = std::map<std::string, std::string>;
People people_of(HubStore& hub) {
  People out;
  out[hub.engine().device_id()] = "hub";
  Result<std::vector<DeviceRecord>> ds = hub.devices();
  if (ds.ok()) {
    for (const DeviceRecord& d : ds.value()) out[d.device_id] = d.inspector_id;
  }
  return out;
}

std::string who(const People& p, const std::string& device) {
  const auto it = p.find(device);
  return esc(it == p.end() ? "?" : it->second) + " <span class=\"muted\">(" + esc(device) +
         ")</span>";
}

std::string shown(const Item& item, const Value& v) {
  if (v.is_null()) return "<span class=\"muted\">—</span>";
  std::string s = esc(format_item_value(item, v));
  if (!item.unit.empty()) s += " " + esc(item.unit);
  return s;
}

std::string photos_of(const Ctx& c, const VisitView& v, const Answer& a) {
  if (a.value.kind() != Value::Kind::kSet) return shown(*a.item, a.value);
  std::string out;
  for (const std::string& id : a.value.as_set()) {
    if (c.hub.photos().has(id)) {
      out += "<a class=\"photo\" href=\"/visits/" + esc(v.id) + "/photos/" + esc(id) +
             "\"><img alt=\"" + esc(id.substr(0, 12)) + "\" src=\"/visits/" + esc(v.id) +
             "/photos/" + esc(id) + "\"></a> ";
    } else {
      out += "<span class=\"error\">照片未到 photo not here yet: " + esc(id.substr(0, 12)) +
             "</span> ";
    }
  }
  return out.empty() ? shown(*a.item, a.value) : out;
}

std::string answers_html(const Ctx& c, const VisitView& v, const People& p) {
  if (!v.checklist) return "<p class=\"error\">the hub does not hold this visit's template</p>";
  std::string out;
  for (const Section& s : v.checklist->sections) {
    out += "<section><h2>" + label(s.title) +
           "</h2><table><tr><th>项目 Item</th>"
           "<th>答案 Answer</th></tr>";
    for (const Answer& a : v.answers) {
      if (a.item->section != s.key) continue;
      bool flagged = false;
      for (const Flag& f : v.flags) flagged = flagged || f.item == a.item->key;
      out += std::string("<tr") + (flagged ? " class=\"flag\"" : "") + " id=\"item-" +
             esc(a.item->key) + "\"><td>" + label(a.item->label) + (a.item->required ? " *" : "") +
             "</td><td>";
      if (a.item->merge == Policy::kAppend) {
        for (const Version& n : a.versions) {
          out += "<p>" + esc(n.value.to_string()) + " <span class=\"muted\">" + when(n.hlc) +
                 "</span> " + who(p, n.op.device) + "</p>";
        }
      } else if (a.item->type == ItemType::kPhoto) {
        out += photos_of(c, v, a);
      } else {
        out += shown(*a.item, a.value);
      }
      out += "</td></tr>";
    }
    out += "</table></section>";
  }
  return out;
}

std::string flags_html(const Ctx& c, const VisitView& v, const People& p) {
  if (v.flags.empty()) return "";
  std::string out = "<section id=\"flags\"><h2>标记 Flags</h2>";
  for (const Flag& f : v.flags) {
    const Item* item = v.checklist ? v.checklist->find(f.item) : nullptr;
    out += "<fieldset class=\"flag\"><legend>" + esc(f.item) + ": " + esc(f.reason) +
           "</legend><table><tr><th>值 Value</th><th>谁 Who</th><th>时间 When</th><th></th></tr>";
    for (const Version& ver : f.versions) {
      // The status's versions are decisions: settled by approving or returning.
      const std::string text =
          item != nullptr ? format_item_value(*item, ver.value) : ver.value.to_string();
      out += "<tr><td>" + (item != nullptr ? shown(*item, ver.value) : esc(text)) + "</td><td>" +
             who(p, ver.op.device) + "</td><td>" + when(ver.hlc) + "</td><td>";
      if (item != nullptr) {
        out += "<form method=\"post\" action=\"/visits/" + esc(v.id) + "/settle\">" +
               csrf_input(c.session) + "<input type=\"hidden\" name=\"item\" value=\"" +
               esc(f.item) + "\"><input type=\"hidden\" name=\"value\" value=\"" + esc(text) +
               "\"><button type=\"submit\" class=\"settle\">采用 Keep this</button></form>";
      }
      out += "</td></tr>";
    }
    out += "</table>";
    if (item == nullptr && f.item == "status") {
      for (const char* d : {"approve", "return"}) {
        out += "<form method=\"post\" action=\"/visits/" + esc(v.id) + "/settle\">" +
               csrf_input(c.session) +
               "<input type=\"hidden\" name=\"item\" value=\"status\">"
               "<input type=\"hidden\" name=\"value\" value=\"" +
               std::string(d) + "\"><button type=\"submit\">" + d + "</button></form>";
      }
    }
    out += "</fieldset>";
  }
  return out + "</section>";
}

std::string review_html(const Ctx& c, const VisitView& v) {
  std::string out = "<section id=\"reviews\"><h2>审核 Reviews</h2>";
  for (const Review& r : v.reviews) {
    out += "<p>第 " + std::to_string(r.round) + " 轮 round: <b>" + esc(r.decision) + "</b> " +
           esc(r.by) + " " + when(r.at) + (r.comment.empty() ? "" : ": " + esc(r.comment)) + "</p>";
  }
  if (v.status.phase == Phase::kSubmitted) {
    out += "<form method=\"post\" action=\"/visits/" + esc(v.id) + "/review\" id=\"review\">" +
           csrf_input(c.session) +
           "<label>意见 Comment<br><textarea name=\"comment\" rows=\"3\" cols=\"60\">"
           "</textarea></label><br><button type=\"submit\" name=\"decision\" value=\"approve\" "
           "id=\"approve\">批准 Approve</button> <button type=\"submit\" name=\"decision\" "
           "value=\"return\" id=\"return\">退回 Return</button></form>";
  }
  return out + "</section>";
}

std::string history_html(HubStore& hub, const std::string& key, const People& p) {
  Result<std::vector<Change>> h = hub.inspection().history(key);
  if (!h.ok()) return "<p class=\"error\">" + esc(h.status().to_string()) + "</p>";
  std::string out =
      "<section id=\"history\"><h2>历史 History</h2><table><tr><th>时间 When</th><th>谁 Who</th>"
      "<th>项目 Item</th><th>原值 Before</th><th>新值 After</th></tr>";
  for (const Change& ch : h.value()) {
    std::string before;
    for (const std::string& b : ch.before) before += (before.empty() ? "" : " | ") + esc(b);
    out += "<tr><td>" + when(ch.at) + "</td><td>" + who(p, ch.op.device) + "</td><td>" +
           esc(ch.what) + (ch.review ? " [review]" : "") + "</td><td>" + before + "</td><td>" +
           esc(ch.after) + "</td></tr>";
  }
  return out + "</table></section>";
}

// The person acting for the next engine calls, and back to the hub's own after.
class Acting {
 public:
  explicit Acting(Ctx& c) : in_(c.hub.inspection()), actor_(in_.actor_id()), role_(in_.role()) {
    if (c.admin()) {
      in_.act_as(actor_, Role::kAdmin);
    } else {
      in_.act_as(c.session.account.person, Role::kSupervisor);
    }
  }
  ~Acting() { in_.act_as(actor_, role_); }
  Acting(const Acting&) = delete;
  Acting& operator=(const Acting&) = delete;
  Acting(Acting&&) = delete;
  Acting& operator=(Acting&&) = delete;

 private:
  Inspection& in_;
  std::string actor_;
  Role role_;
};

Response refused_action(Ctx& c, const Status& s) {
  return error_page(s.code() == Code::kNotFound ? 404 : 400, s.message(), &c.session);
}

}  // namespace

Result<const VisitRow*> visible_visit(Ctx& c, const std::string& id, Response* refusal) {
  for (const auto& [key, row] : c.index.rows()) {
    if (row.id != id) continue;
    if (!c.sees(row.school)) {
      *refusal = error_page(403, "visit " + id + " is outside your county", &c.session);
      return Status::rejected("outside the scope");
    }
    return &row;
  }
  *refusal = error_page(404, "no visit " + id, &c.session);
  return Status::not_found("no visit");
}

Response visit_page(Ctx& c, const std::string& id) {
  Response refusal;
  Result<const VisitRow*> row = visible_visit(c, id, &refusal);
  if (!row.ok()) return refusal;
  Result<VisitView> v = c.hub.inspection().visit(row.value()->key);
  if (!v.ok()) return error_page(500, v.status().to_string(), &c.session);
  const People p = people_of(c.hub);
  std::string body = "<p>" + esc(row.value()->school_name) + " (" + esc(v->school_id) + "), " +
                     esc(row.value()->county) + " · " +
                     (v->checklist ? label(v->checklist->title) : esc(v->template_id)) +
                     " · <b id=\"status\">" + esc(phase_name(v->status.phase)) + "</b> 第 " +
                     std::to_string(v->status.round) + " 轮 round</p><p>开始 Started " +
                     esc(v->started_at) + " · " + esc(v->started_by);
  for (const std::string& i : v->inspectors) body += " · " + esc(i);
  body += "</p>";
  if (!v->missing_required.empty() || !v->photos_missing.empty()) {
    body += "<p class=\"error\">不完整 Incomplete:";
    for (const std::string& m : v->missing_required) body += " " + esc(m);
    for (const std::string& m : v->photos_missing) body += " photo " + esc(m.substr(0, 12));
    body += "</p>";
  }
  body += flags_html(c, v.value(), p) + review_html(c, v.value()) + answers_html(c, v.value(), p);
  if (!v->findings.empty()) {
    body += "<section id=\"findings\"><h2>发现 Findings</h2><ul>";
    for (const Finding& f : v->findings)
      body += "<li>" + esc(f.level) + ": " + esc(f.message) + "</li>";
    body += "</ul></section>";
  }
  body += history_html(c.hub, row.value()->key, p);
  Response r;
  r.body = page("视察 Visit " + v->id.substr(0, 8), &c.session, body);
  return r;
}

Response review_action(Ctx& c, const std::string& id) {
  Response refusal;
  Result<const VisitRow*> row = visible_visit(c, id, &refusal);
  if (!row.ok()) return refusal;
  const std::string key = row.value()->key;
  Acting as(c);
  if (Status s = c.hub.inspection().review(key, c.req.field("decision"), c.req.field("comment"));
      !s.ok()) {
    return refused_action(c, s);
  }
  return Response::redirect("/visits/" + id);
}

Response settle_action(Ctx& c, const std::string& id) {
  Response refusal;
  Result<const VisitRow*> row = visible_visit(c, id, &refusal);
  if (!row.ok()) return refusal;
  const std::string key = row.value()->key;
  Acting as(c);
  if (Status s = c.hub.inspection().resolve(key, c.req.field("item"), c.req.field("value"));
      !s.ok()) {
    return refused_action(c, s);
  }
  return Response::redirect("/visits/" + id);
}

Response photo_file(Ctx& c, const std::string& id, const std::string& photo) {
  Response refusal;
  Result<const VisitRow*> row = visible_visit(c, id, &refusal);
  if (!row.ok()) return refusal;
  Result<RecordView> rec = c.hub.engine().read(row.value()->key);
  if (!rec.ok()) return error_page(500, rec.status().to_string(), &c.session);
  const std::vector<std::string> named = photos_named_by(rec.value());
  if (!is_photo_id(photo) || std::find(named.begin(), named.end(), photo) == named.end())
    return error_page(404, "this visit names no photo " + photo, &c.session);
  Result<std::string> bytes = c.hub.photos().read_all(photo);
  if (!bytes.ok())
    return error_page(404, "photo " + photo + " has not reached the hub", &c.session);
  Response r;
  r.content_type = std::string(photo_media_type(bytes.value()));
  if (r.content_type.empty()) r.content_type = "application/octet-stream";
  r.body = std::move(bytes.value());
  return r;
}

}  // namespace vs::console
