// The visits list: filters, sorting and paging over the index's rows.
#include <algorithm>
#include <functional>
#include <set>
#include <vector>

#include "console/html.h"
#include "console/pages.h"

namespace vs::console {
namespace {

constexpr std::size_t kPageRows = 50;

struct Filter {
  std::string county, school, tmpl, status, from, to, sort = "-started";
  bool flagged = false;
  std::size_t page = 1;
};

const char* const kSorts[] = {"started", "-started", "school", "-school",
                              "status",  "-status",  "flags",  "-flags"};

// The filter the query asks for; kInvalidInput names the bad field.
Result<Filter> parse_filter(const Request& r) {
  Filter f;
  f.county = r.arg("county");
  f.school = r.arg("school");
  f.tmpl = r.arg("template");
  f.status = r.arg("status");
  f.from = r.arg("from");
  f.to = r.arg("to");
  f.flagged = r.arg("flagged") == "1";
  if (!f.status.empty() && f.status != "draft" && f.status != "submitted" &&
      f.status != "returned" && f.status != "approved") {
    return Status::invalid_input("status must be draft, submitted, returned or approved");
  }
  for (const std::string* d : {&f.from, &f.to}) {
    if (!d->empty() && !parse_date(*d).ok())
      return Status::invalid_input("dates are YYYY-MM-DD, not '" + *d + "'");
  }
  if (const std::string s = r.arg("sort"); !s.empty()) {
    if (std::find(std::begin(kSorts), std::end(kSorts), s) == std::end(kSorts))
      return Status::invalid_input(
          "sort must be started, school, status or flags (- for descending)");
    f.sort = s;
  }
  if (const std::string p = r.arg("page"); !p.empty()) {
    if (p.size() > 6 || !std::all_of(p.begin(), p.end(), ::isdigit) || std::stoul(p) == 0)
      return Status::invalid_input("page must be a number from 1 to 999999");
    f.page = std::stoul(p);
  }
  return f;
}

bool keep(const Ctx& c, const Filter& f, const VisitRow& r) {
  if (!c.sees(r.school)) return false;
  if (!f.county.empty() && r.county != f.county) return false;
  if (!f.school.empty() && r.school != f.school) return false;
  if (!f.tmpl.empty() && r.template_id != f.tmpl) return false;
  if (!f.status.empty() && phase_name(r.phase) != f.status) return false;
  if (f.flagged && r.flags == 0) return false;
  const std::string day = r.started_at.substr(0, 10);
  if (!f.from.empty() && day < f.from) return false;
  if (!f.to.empty() && day > f.to) return false;
  return true;
}

void sort_rows(std::vector<const VisitRow*>& rows, const std::string& sort) {
  const bool desc = sort[0] == '-';
  const std::string by = desc ? sort.substr(1) : sort;
  auto key = [&](const VisitRow* r) {
    if (by == "school") return std::make_tuple(r->school, std::string(), r->started_at);
    if (by == "status")
      return std::make_tuple(std::string(phase_name(r->phase)), r->started_at, r->id);
    if (by == "flags") {
      char n[16];
      std::snprintf(n, sizeof n, "%010zu", r->flags);
      return std::make_tuple(std::string(n), r->started_at, r->id);
    }
    return std::make_tuple(r->started_at, r->id, std::string());
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const VisitRow* a, const VisitRow* b) {
    return desc ? key(b) < key(a) : key(a) < key(b);
  });
}

std::string query_of(const Filter& f, std::size_t page) {
  std::string q = "?sort=" + url_encode(f.sort) + "&page=" + std::to_string(page);
  const std::pair<const char*, const std::string*> fields[] = {
      {"county", &f.county}, {"school", &f.school}, {"template", &f.tmpl},
      {"status", &f.status}, {"from", &f.from},     {"to", &f.to}};
  for (const auto& [name, value] : fields) {
    if (!value->empty()) q += std::string("&") + name + "=" + url_encode(*value);
  }
  if (f.flagged) q += "&flagged=1";
  return q;
}

std::string select(const char* name, const std::set<std::string>& options,
                   const std::string& chosen) {
  std::string out = std::string("<select name=\"") + name + "\"><option value=\"\">*</option>";
  for (const std::string& o : options) {
    out += "<option value=\"" + esc(o) + "\"" + (o == chosen ? " selected" : "") + ">" + esc(o) +
           "</option>";
  }
  return out + "</select>";
}

std::string filter_form(const Ctx& c, const Filter& f) {
  std::set<std::string> counties, templates;
  for (const auto& [key, r] : c.index.rows()) {
    if (!c.sees(r.school)) continue;
    counties.insert(r.county);
    templates.insert(r.template_id);
  }
  std::string out = "<form method=\"get\" action=\"/visits\" class=\"filters\">";
  out += "<label>县 County " + select("county", counties, f.county) + "</label>";
  out += "<label>学校 School <input name=\"school\" size=\"8\" value=\"" + esc(f.school) +
         "\"></label>";
  out += "<label>模板 Template " + select("template", templates, f.tmpl) + "</label>";
  out += "<label>状态 Status " +
         select("status", {"draft", "submitted", "returned", "approved"}, f.status) + "</label>";
  out += std::string("<label><input type=\"checkbox\" name=\"flagged\" value=\"1\"") +
         (f.flagged ? " checked" : "") + "> 有标记 Flagged</label>";
  out += "<label>从 From <input name=\"from\" type=\"date\" value=\"" + esc(f.from) + "\"></label>";
  out += "<label>到 To <input name=\"to\" type=\"date\" value=\"" + esc(f.to) + "\"></label>";
  out += "<input type=\"hidden\" name=\"sort\" value=\"" + esc(f.sort) + "\">";
  return out + "<button type=\"submit\" id=\"filter\">筛选 Filter</button></form>";
}

std::string header(const Filter& f, const char* by, const char* title) {
  const std::string up = by;
  const std::string next = f.sort == up ? "-" + up : up;
  Filter g = f;
  g.sort = next;
  return "<th><a href=\"/visits" + esc(query_of(g, 1)) + "\">" + title + "</a></th>";
}

}  // namespace

Response visits_page(Ctx& c) {
  Result<Filter> parsed = parse_filter(c.req);
  if (!parsed.ok()) return error_page(400, parsed.status().message(), &c.session);
  const Filter& f = parsed.value();
  std::vector<const VisitRow*> rows;
  for (const auto& [key, r] : c.index.rows()) {
    if (keep(c, f, r)) rows.push_back(&r);
  }
  sort_rows(rows, f.sort);
  const std::size_t pages = std::max<std::size_t>(1, (rows.size() + kPageRows - 1) / kPageRows);
  const std::size_t at = std::min(f.page, pages);
  std::string body = filter_form(c, f);
  body += "<p id=\"count\">" + std::to_string(rows.size()) + " 次视察 visits</p>";
  body += "<table id=\"visits\"><tr>" + header(f, "started", "开始 Started") +
          header(f, "school", "学校 School") + "<th>县 County</th><th>模板 Template</th>" +
          header(f, "status", "状态 Status") + header(f, "flags", "标记 Flags") +
          "<th>已答 Answered</th></tr>";
  for (std::size_t i = (at - 1) * kPageRows; i < std::min(rows.size(), at * kPageRows); ++i) {
    const VisitRow& r = *rows[i];
    body += std::string("<tr") + (r.flags > 0 ? " class=\"flag\"" : "") +
            "><td><a href=\"/visits/" + esc(r.id) + "\">" + esc(r.started_at) + "</a></td><td>" +
            esc(r.school_name) + " (" + esc(r.school) + ")</td><td>" + esc(r.county) + "</td><td>" +
            esc(r.template_id) + "</td><td>" + esc(phase_name(r.phase)) + " · " +
            std::to_string(r.round) + "</td><td>" + std::to_string(r.flags) + "</td><td>" +
            std::to_string(r.answered) + "/" + std::to_string(r.items) +
            (r.photos_missing > 0 ? " · photos missing" : "") + "</td></tr>";
  }
  body += "</table><p class=\"pager\">";
  if (at > 1) body += "<a href=\"/visits" + esc(query_of(f, at - 1)) + "\">← 上一页 Previous</a>";
  body += "第 " + std::to_string(at) + " / " + std::to_string(pages) + " 页 page";
  if (at < pages)
    body += " <a href=\"/visits" + esc(query_of(f, at + 1)) + "\" id=\"next\">下一页 Next →</a>";
  body += "</p>";
  Response r;
  r.body = page("视察 Visits", &c.session, body);
  return r;
}

}  // namespace vs::console
