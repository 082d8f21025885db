// The dashboard's charts (server-rendered SVG: no script, readable on any browser) and the
// /metrics text.
#include <algorithm>
#include <map>
#include <set>

#include "console/html.h"
#include "console/pages.h"

namespace vs::console {
namespace {

constexpr const char* kColours[] = {"#3b6ea5", "#e07b39", "#5aa05a", "#b94a6b",
                                    "#8a6fb0", "#c9a227", "#4aa8b0", "#777777"};
constexpr int kWeeks = 12;

// Monday-based week number of a YYYY-MM-DD... time (1970-01-01 was a Thursday); nullopt when
// the text holds no date.
std::optional<std::int32_t> week_of(const std::string& started_at) {
  Result<Date> d = parse_date(started_at.substr(0, 10));
  if (!d.ok()) return std::nullopt;
  return static_cast<std::int32_t>((d->days + 3 + 7 * 1'000'000) / 7 - 1'000'000);
}

std::string week_label(std::int32_t week) { return format_date(Date{week * 7 - 3}).substr(5); }

// Visits started per week, stacked by county, for the last kWeeks weeks that have any.
std::string weeks_chart(const std::vector<const VisitRow*>& rows) {
  std::map<std::int32_t, std::map<std::string, int>> by_week;
  std::set<std::string> counties;
  for (const VisitRow* r : rows) {
    if (auto w = week_of(r->started_at)) {
      ++by_week[*w][r->county];
      counties.insert(r->county);
    }
  }
  if (by_week.empty()) return "<p class=\"muted\">还没有视察 No visits yet.</p>";
  const std::int32_t last = by_week.rbegin()->first;
  int most = 1;
  for (const auto& [w, cs] : by_week) {
    int n = 0;
    for (const auto& [county, k] : cs) n += k;
    most = std::max(most, n);
  }
  const int width = 60 + kWeeks * 40;
  const int height = 200;
  std::string svg = "<svg id=\"weeks\" width=\"" + std::to_string(width) + "\" height=\"" +
                    std::to_string(height + 40 + 16 * static_cast<int>(counties.size())) +
                    "\" role=\"img\" aria-label=\"visits per week per county\">";
  svg += "<text x=\"4\" y=\"14\" font-size=\"11\">" + std::to_string(most) + "</text>";
  for (int i = 0; i < kWeeks; ++i) {
    const std::int32_t w = last - (kWeeks - 1 - i);
    const int x = 40 + i * 40;
    int y = height;
    int ci = 0;
    for (const std::string& county : counties) {
      const auto it = by_week.find(w);
      const int n =
          it == by_week.end() ? 0 : (it->second.count(county) ? it->second.at(county) : 0);
      const int h = n * (height - 20) / most;
      if (n > 0) {
        y -= h;
        svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) +
               "\" width=\"28\" height=\"" + std::to_string(h) + "\" fill=\"" + kColours[ci % 8] +
               "\"><title>" + esc(county) + " " + week_label(w) + ": " + std::to_string(n) +
               "</title></rect>";
      }
      ++ci;
    }
    svg += "<text x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(height + 14) +
           "\" font-size=\"10\">" + week_label(w) + "</text>";
  }
  int ci = 0;
  for (const std::string& county : counties) {
    const int y = height + 30 + 16 * ci;
    svg += "<rect x=\"40\" y=\"" + std::to_string(y - 10) +
           "\" width=\"10\" height=\"10\" fill=\"" + kColours[ci % 8] + "\"/><text x=\"56\" y=\"" +
           std::to_string(y) + "\" font-size=\"12\">" + esc(county) + "</text>";
    ++ci;
  }
  return svg + "</svg>";
}

// The items with the most findings, as horizontal bars.
std::string findings_chart(const std::vector<const VisitRow*>& rows) {
  std::map<std::string, int> by_item;
  for (const VisitRow* r : rows)
    for (const std::string& item : r->finding_items) ++by_item[item];
  if (by_item.empty()) return "<p class=\"muted\">没有发现 No findings.</p>";
  std::vector<std::pair<int, std::string>> top;
  for (const auto& [item, n] : by_item) top.emplace_back(-n, item);
  std::sort(top.begin(), top.end());
  top.resize(std::min<std::size_t>(top.size(), 10));
  const int most = -top.front().first;
  std::string svg = "<svg id=\"findings\" width=\"560\" height=\"" +
                    std::to_string(20 + 22 * static_cast<int>(top.size())) +
                    "\" role=\"img\" aria-label=\"findings per item\">";
  int y = 10;
  for (const auto& [neg, item] : top) {
    const int w = -neg * 300 / most;
    svg += "<text x=\"4\" y=\"" + std::to_string(y + 12) + "\" font-size=\"12\">" + esc(item) +
           "</text><rect x=\"220\" y=\"" + std::to_string(y) + "\" width=\"" + std::to_string(w) +
           "\" height=\"16\" fill=\"#b94a6b\"/><text x=\"" + std::to_string(226 + w) + "\" y=\"" +
           std::to_string(y + 12) + "\" font-size=\"12\">" + std::to_string(-neg) + "</text>";
    y += 22;
  }
  return svg + "</svg>";
}

void label_value(std::string& out, std::string_view v) {
  for (const char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
}

void metric(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void sample(std::string& out, const char* name, const char* label, std::string_view value,
            double x) {
  out += name;
  if (label != nullptr) {
    out += std::string("{") + label + "=\"";
    label_value(out, value);
    out += "\"}";
  }
  char num[32];
  std::snprintf(num, sizeof num, " %.17g\n", x);
  out += num;
}

}  // namespace

Response dashboard_page(Ctx& c) {
  std::vector<const VisitRow*> rows;
  std::size_t flags = 0, waiting = 0;
  for (const auto& [key, r] : c.index.rows()) {
    if (!c.sees(r.school)) continue;
    rows.push_back(&r);
    flags += r.flags;
    waiting += r.phase == Phase::kSubmitted ? 1 : 0;
  }
  std::string body = "<p><a href=\"/visits?flagged=1\" id=\"open-flags\">未决标记 Open flags: <b>" +
                     std::to_string(flags) +
                     "</b></a> · <a href=\"/visits?status=submitted\" "
                     "id=\"waiting\">待批准 Approvals waiting: <b>" +
                     std::to_string(waiting) +
                     "</b></a> · 视察 Visits: " + std::to_string(rows.size()) + "</p>";
  body += "<h2>每周视察 Visits per week, by county</h2>" + weeks_chart(rows);
  body += "<h2>发现最多的项目 Findings per item</h2>" + findings_chart(rows);
  Response r;
  r.body = page("概览 Dashboard", &c.session, body);
  return r;
}

std::string metrics_text(const HubCounters& k, const HubLoad& load, const VisitIndex& index) {
  std::string out;
  metric(out, "visitsync_sessions_total", "counter", "Sync sessions ended, by outcome.");
  std::map<std::string, std::uint64_t> sessions = k.sessions;
  sessions.emplace("ok", 0);
  for (const auto& [outcome, n] : sessions)
    sample(out, "visitsync_sessions_total", "outcome", outcome, static_cast<double>(n));
  metric(out, "visitsync_handshake_failures_total", "counter",
         "Connections that did not complete their TLS handshake.");
  sample(out, "visitsync_handshake_failures_total", nullptr, "",
         static_cast<double>(k.handshake_failures));
  metric(out, "visitsync_ops_received_total", "counter", "Ops devices pushed that the hub merged.");
  sample(out, "visitsync_ops_received_total", nullptr, "", static_cast<double>(k.ops_in));
  metric(out, "visitsync_ops_sent_total", "counter", "Ops sent to devices in pulls.");
  sample(out, "visitsync_ops_sent_total", nullptr, "", static_cast<double>(k.ops_out));
  metric(out, "visitsync_ops_rejected_total", "counter",
         "Ops the hub refused, by the rule that refused them.");
  std::map<std::string, std::uint64_t> kinds = k.rejections;
  for (const char* kind :
       {"scope", "forged", "malformed", "role", "base", "answer", "start", "lifecycle"})
    kinds.emplace(kind, 0);
  for (const auto& [kind, n] : kinds)
    sample(out, "visitsync_ops_rejected_total", "reason", kind, static_cast<double>(n));
  metric(out, "visitsync_bytes_received_total", "counter",
         "TCP payload bytes received in ended sessions.");
  sample(out, "visitsync_bytes_received_total", nullptr, "", static_cast<double>(k.bytes_in));
  metric(out, "visitsync_bytes_sent_total", "counter", "TCP payload bytes sent in ended sessions.");
  sample(out, "visitsync_bytes_sent_total", nullptr, "", static_cast<double>(k.bytes_out));
  metric(out, "visitsync_connections", "gauge", "Open sync connections, by state.");
  sample(out, "visitsync_connections", "state", "handshake", static_cast<double>(load.handshakes));
  sample(out, "visitsync_connections", "state", "session", static_cast<double>(load.sessions));
  metric(out, "visitsync_store_queue_depth", "gauge",
         "Steps waiting for or running on the store thread.");
  sample(out, "visitsync_store_queue_depth", nullptr, "", static_cast<double>(load.store_queue));
  metric(out, "visitsync_store_queue_peak", "gauge", "The deepest the store queue has been.");
  sample(out, "visitsync_store_queue_peak", nullptr, "",
         static_cast<double>(load.store_queue_peak));
  metric(out, "visitsync_store_steps_total", "counter", "Steps run on the store thread.");
  sample(out, "visitsync_store_steps_total", nullptr, "", static_cast<double>(load.store_steps));
  metric(out, "visitsync_store_busy_seconds_total", "counter",
         "Time the store thread spent running steps.");
  sample(out, "visitsync_store_busy_seconds_total", nullptr, "",
         static_cast<double>(load.store_busy.count()) / 1e6);
  metric(out, "visitsync_store_busy_refusals_total", "counter",
         "Steps refused or dropped as busy.");
  sample(out, "visitsync_store_busy_refusals_total", nullptr, "", static_cast<double>(load.busy));
  std::size_t flags = 0;
  std::map<std::string, std::size_t> phases = {
      {"draft", 0}, {"submitted", 0}, {"returned", 0}, {"approved", 0}};
  for (const auto& [key, r] : index.rows()) {
    flags += r.flags;
    ++phases[std::string(phase_name(r.phase))];
  }
  metric(out, "visitsync_open_flags", "gauge",
         "Flagged items waiting for a person, over every visit.");
  sample(out, "visitsync_open_flags", nullptr, "", static_cast<double>(flags));
  metric(out, "visitsync_visits", "gauge", "Visits on the hub, by status.");
  for (const auto& [phase, n] : phases)
    sample(out, "visitsync_visits", "status", phase, static_cast<double>(n));
  return out;
}

}  // namespace vs::console
