// The reference pages (schools, inspectors with their assignments), the devices, and the
// exports. A supervisor sees the schools of their scope and the people of their county.
#include <map>

#include "console/html.h"
#include "console/pages.h"

namespace vs::console {
namespace {

std::string id_of(const std::string& key) { return key.substr(key.find('/') + 1); }

Response framed(const Ctx& c, std::string_view title, const std::string& body) {
  Response r;
  r.body = page(title, &c.session, body);
  return r;
}

// The county a supervisor works in ("" for an administrator).
std::string county_of(Ctx& c) {
  if (c.admin()) return "";
  Result<Inspector> me = c.hub.inspection().inspector(c.session.account.person);
  return me.ok() ? me->county : "";
}

std::string utc(std::int64_t ms) {
  return format_hlc(make_hlc(static_cast<std::uint64_t>(ms), 0)).substr(0, 19) + "Z";
}

}  // namespace

Response schools_page(Ctx& c) {
  Result<std::vector<std::string>> keys = c.hub.engine().records_with_prefix("school/");
  if (!keys.ok()) return error_page(500, keys.status().to_string(), &c.session);
  std::map<std::string, std::size_t> visits;
  for (const auto& [key, r] : c.index.rows()) ++visits[r.school];
  std::string body =
      "<table id=\"schools\"><tr><th>编号 Id</th><th>名称 Name</th><th>县 County</th>"
      "<th>乡镇 Township</th><th>学段 Level</th><th>学生 Students</th><th>视察 Visits</th></tr>";
  for (const std::string& key : keys.value()) {
    const std::string id = id_of(key);
    if (!c.sees(id)) continue;
    Result<School> s = c.hub.inspection().school(id);
    if (!s.ok()) continue;
    body += "<tr><td>" + esc(s->id) + "</td><td>" + esc(s->name) + "</td><td>" + esc(s->county) +
            "</td><td>" + esc(s->township) + "</td><td>" + esc(s->level) + "</td><td>" +
            std::to_string(s->students) + "</td><td><a href=\"/visits?school=" + url_encode(s->id) +
            "\">" + std::to_string(visits[s->id]) + "</a></td></tr>";
  }
  return framed(c, "学校 Schools", body + "</table>");
}

Response inspectors_page(Ctx& c) {
  const std::string county = county_of(c);
  Result<std::vector<std::string>> keys = c.hub.engine().records_with_prefix("inspector/");
  Result<std::vector<std::string>> assigned = c.hub.engine().records_with_prefix("assignment/");
  if (!keys.ok() || !assigned.ok())
    return error_page(500, "the reference data cannot be read", &c.session);
  std::map<std::string, std::vector<std::string>> schools;  // by inspector
  for (const std::string& key : assigned.value()) {
    const std::string rest = id_of(key);  // <inspector>/<school>
    const std::size_t slash = rest.find('/');
    if (slash == std::string::npos || !c.sees(rest.substr(slash + 1))) continue;
    schools[rest.substr(0, slash)].push_back(rest.substr(slash + 1));
  }
  std::string body =
      "<table id=\"inspectors\"><tr><th>编号 Id</th><th>姓名 Name</th>"
      "<th>县 County</th><th>角色 Role</th><th>分配 Assigned schools</th></tr>";
  for (const std::string& key : keys.value()) {
    Result<Inspector> p = c.hub.inspection().inspector(id_of(key));
    if (!p.ok() || (!county.empty() && p->county != county)) continue;
    std::string list;
    for (const std::string& s : schools[p->id]) list += esc(s) + " ";
    body += "<tr><td>" + esc(p->id) + "</td><td>" + esc(p->name) + "</td><td>" + esc(p->county) +
            "</td><td>" + esc(role_name(p->role)) + "</td><td>" + list + "</td></tr>";
  }
  return framed(c, "督学 Inspectors", body + "</table>");
}

Response devices_page(Ctx& c, const HubCounters& counters) {
  Result<std::vector<DeviceRecord>> ds = c.hub.devices();
  if (!ds.ok()) return error_page(500, ds.status().to_string(), &c.session);
  std::string body =
      "<p class=\"muted\">上次同步 Last sync and clock skew: since the hub started.</p>"
      "<table id=\"devices\"><tr><th>设备 Device</th><th>人 Person</th><th>角色 Role</th>"
      "<th>已确认 Acked seq</th><th>上次同步 Last sync</th><th>时钟偏差 Clock skew</th>"
      "<th>拒绝 Refused ops</th></tr>";
  for (const DeviceRecord& d : ds.value()) {
    Result<std::vector<std::pair<std::uint64_t, std::string>>> refused =
        c.hub.refused_ops(d.device_id, 1000);
    std::string last = "—", skew = "—";
    if (auto it = counters.last_session.find(d.device_id); it != counters.last_session.end()) {
      last = utc(it->second.ended_ms) + " " + it->second.outcome;
      skew = std::to_string(it->second.skew_ms / 1000) + " s";
    }
    std::string why;
    if (refused.ok() && !refused->empty())
      why = std::to_string(refused->size()) + ": " + refused->back().second;
    body += "<tr><td>" + esc(d.device_id) + (d.revoked ? " (revoked)" : "") + "</td><td>" +
            esc(d.inspector_id) + "</td><td>" + esc(role_name(d.role)) + "</td><td>" +
            std::to_string(d.acked_seq) + "</td><td>" + esc(last) + "</td><td>" + esc(skew) +
            "</td><td>" + (why.empty() ? "0" : esc(why)) + "</td></tr>";
  }
  return framed(c, "设备 Devices", body + "</table>");
}

Response exports_page(Ctx& c) {
  std::string body = "<p>下载 Downloads:</p><ul>";
  for (const char* f : {"csv", "jsonl", "summary"}) {
    body += std::string("<li><a href=\"/export?format=") + f + "\">" + f + "</a></li>";
  }
  Result<std::vector<std::shared_ptr<const Template>>> ts = c.hub.inspection().templates();
  if (ts.ok()) {
    body += "</ul><p>CSV 每个模板 per template:</p><ul>";
    for (const auto& t : ts.value()) {
      body += "<li><a href=\"/export?format=csv&amp;template=" + url_encode(t->id) + "\">" +
              label(t->title) + "</a></li>";
    }
  }
  return framed(c, "导出 Exports", body + "</ul>");
}

Response export_file(Ctx& c) {
  Result<ExportFormat> f = parse_export_format(c.req.arg("format"));
  if (!f.ok()) return error_page(400, f.status().message(), &c.session);
  Inspection::SchoolFilter keep;
  if (c.schools) keep = [&c](const std::string& school) { return c.sees(school); };
  Result<std::string> out =
      c.hub.inspection().export_visits(f.value(), c.req.arg("template"), keep);
  if (!out.ok()) return error_page(400, out.status().message(), &c.session);
  Response r;
  const bool csv = f.value() != ExportFormat::kJsonl;
  r.content_type = csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8";
  const std::string name = std::string("visits-") + c.req.arg("format") + (csv ? ".csv" : ".jsonl");
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
  r.body = std::move(out.value());
  return r;
}

}  // namespace vs::console
