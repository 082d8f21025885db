#include "console/html.h"

namespace vs::console {

std::string esc(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string label(const Label& l) {
  if (l.zh.empty()) return esc(l.en);
  if (l.en.empty()) return esc(l.zh);
  return esc(l.zh) + " <span class=\"en\">" + esc(l.en) + "</span>";
}

std::string csrf_input(const Session& s) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(s.csrf) + "\">";
}

std::string page(std::string_view title, const Session* session, const std::string& body) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      esc(title) +
      " · visitsync</title>"
      "<link rel=\"stylesheet\" href=\"/style.css\"></head><body>";
  if (session != nullptr) {
    out +=
        "<nav><a href=\"/\">概览 Dashboard</a><a href=\"/visits\">视察 Visits</a>"
        "<a href=\"/schools\">学校 Schools</a><a href=\"/inspectors\">督学 Inspectors</a>";
    if (session->account.role == ConsoleRole::kAdmin)
      out += "<a href=\"/devices\">设备 Devices</a><a href=\"/metrics\">Metrics</a>";
    out +=
        "<a href=\"/exports\">导出 Exports</a>"
        "<form method=\"post\" action=\"/logout\" class=\"out\">" +
        csrf_input(*session) + "<span>" + esc(session->account.name) +
        "</span><button type=\"submit\">退出 Sign out</button></form></nav>";
  }
  out += "<main><h1>" + esc(title) + "</h1>" + body + "</main></body></html>\n";
  return out;
}

Response error_page(int status, std::string_view message, const Session* session) {
  Response r;
  r.status = status;
  r.body = page(status == 403   ? "不允许 Forbidden"
                : status == 404 ? "未找到 Not found"
                                : "错误 Error",
                session, "<p class=\"error\">" + esc(message) + "</p>");
  return r;
}

const char* const kStyleSheet =
    "body{font-family:sans-serif;margin:0;color:#222;background:#fafafa}"
    "nav{background:#234;padding:.5em;display:flex;flex-wrap:wrap;gap:1em;align-items:center}"
    "nav a{color:#fff;text-decoration:none}nav .out{margin-left:auto;color:#fff}"
    "nav .out span{margin-right:.5em}main{padding:1em;max-width:70em}"
    "table{border-collapse:collapse;width:100%;background:#fff}"
    "th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}"
    "th{background:#eee}.en{color:#567;font-size:90%}.error{color:#a00;font-weight:bold}"
    ".flag{background:#fff3e0}.ok{color:#060}.muted{color:#777}"
    "form.filters{display:flex;flex-wrap:wrap;gap:.5em;margin-bottom:1em}"
    "fieldset{margin:1em 0}section{margin-bottom:1.5em}.pager a{margin-right:1em}"
    ".photo img{max-width:16em;max-height:12em;border:1px solid #ccc}"
    "svg{background:#fff;border:1px solid #ccc;margin:.5em 0}";

}  // namespace vs::console
