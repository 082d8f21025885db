// The console end to end: a hub folder with console accounts, and an HTTPS client (curl, a
// real one, with its own cookie jar) for the console's pages.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "tools.h"

namespace vs::test {

struct WebResult {
  int status = 0;  // 0: no HTTP answer at all
  std::string headers;
  std::string body;
  int curl_exit = -1;
};

// One browser's worth of cookies against https://127.0.0.1:PORT.
class WebClient {
 public:
  WebClient(const TempDir& dir, const std::string& name, std::uint16_t port)
      : jar_(dir.file(name + ".jar")),
        out_(dir.file(name + ".out")),
        head_(dir.file(name + ".head")),
        base_("https://127.0.0.1:" + std::to_string(port)) {}

  WebResult get(const std::string& path, const std::vector<std::string>& extra = {}) const {
    return call(path, extra);
  }
  // A form post: fields already URL-encoded by the caller ("a=1&b=2").
  WebResult post(const std::string& path, const std::string& form) const {
    return call(path, {"--data", form});
  }
  // Signs in with a fresh form; the result is the POST's answer.
  WebResult sign_in(const std::string& name, const std::string& password) const {
    const WebResult form = get("/login");
    return post("/login",
                "login=" + field(form.body, "login") + "&name=" + name + "&password=" + password);
  }
  // The value of the first hidden input `name` of a page.
  static std::string field(const std::string& html, const std::string& name) {
    const std::string key = "name=\"" + name + "\" value=\"";
    const std::size_t at = html.find(key);
    if (at == std::string::npos) return "";
    const std::size_t from = at + key.size();
    return html.substr(from, html.find('"', from) - from);
  }

 private:
  WebResult call(const std::string& path, const std::vector<std::string>& extra) const {
    std::vector<std::string> args = {"-sk", "-c",  jar_, "-b",           jar_,         "-o", out_,
                                     "-D",  head_, "-w", "%{http_code}", "--max-time", "20"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(base_ + path);
    const RunResult r = run("/usr/bin/curl", args);
    WebResult w;
    w.curl_exit = r.exit_code;
    w.status = std::atoi(r.out.c_str());
    w.headers = slurp_or_empty(head_);
    w.body = slurp_or_empty(out_);
    std::remove(out_.c_str());
    std::remove(head_.c_str());
    return w;
  }
  static std::string slurp_or_empty(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string jar_, out_, head_, base_;
};

// Adds a console account; returns its initial password (printed by visitsync-admin).
inline std::string add_account(const HubFolder& h, const std::string& name,
                               const std::vector<std::string>& role) {
  std::vector<std::string> args = {"console", "add", "--data", h.path, name};
  args.insert(args.end(), role.begin(), role.end());
  const std::string said = ok("visitsync-admin", args);
  const std::string key = "initial password: ";
  REQUIRE(said.find(key) != std::string::npos);
  return said.substr(said.find(key) + key.size());
}

}  // namespace vs::test
