#include "cdp.h"

#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <signal.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace vs::test {
namespace {

using nlohmann::json;

std::string base64_decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int have = 0;
  for (const char c : in) {
    const std::size_t v = kAlphabet.find(c);
    if (v == std::string::npos) continue;  // '=' and line breaks
    bits = (bits << 6) | static_cast<unsigned>(v);
    have += 6;
    if (have >= 8) {
      have -= 8;
      out.push_back(static_cast<char>((bits >> have) & 0xFF));
    }
  }
  return out;
}

}  // namespace

Chromium::Chromium(const std::string& profile_dir, const std::string& spki,
                   const std::string& log_path) {
  int to[2], from[2];
  if (pipe(to) != 0 || pipe(from) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    // fds 3 and 4 as the protocol wants them, whatever numbers the pipes got.
    const int in = fcntl(to[0], F_DUPFD, 100);  // above 3 and 4, so neither dup2 undoes the other
    const int out = fcntl(from[1], F_DUPFD, 100);
    dup2(in, 3);
    dup2(out, 4);
    for (int fd = 5; fd < 1024; ++fd) close(fd);
    const std::string profile = "--user-data-dir=" + profile_dir;
    const std::string trust = "--ignore-certificate-errors-spki-list=" + spki;
    execl("/usr/bin/chromium", "chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
          "--disable-quic", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-extensions",
          "--window-size=1200,1000", "--remote-debugging-pipe", profile.c_str(), trust.c_str(),
          "about:blank", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(to[0]);
  close(from[1]);
  to_ = to[1];
  from_ = from[0];
  if (pid_ < 0) return;
  try {
    const json target = call("Target.createTarget", {{"url", "about:blank"}}, true);
    const json attached =
        call("Target.attachToTarget", {{"targetId", target["targetId"]}, {"flatten", true}}, true);
    session_ = attached["sessionId"];
    call("Page.enable");
  } catch (const std::exception&) {
    session_.clear();
  }
}

Chromium::~Chromium() {
  if (to_ >= 0) close(to_);
  if (from_ >= 0) close(from_);
  if (pid_ > 0) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

json Chromium::call(const std::string& method, const json& params, bool browser) {
  const int id = next_id_++;
  json msg = {
      {"id", id}, {"method", method}, {"params", params.is_null() ? json::object() : params}};
  if (!browser) msg["sessionId"] = session_;
  const std::string text = msg.dump() + std::string(1, '\0');
  for (std::size_t sent = 0; sent < text.size();) {
    const ssize_t n = write(to_, text.data() + sent, text.size() - sent);
    if (n <= 0) throw std::runtime_error("chromium closed its pipe");
    sent += static_cast<std::size_t>(n);
  }
  json reply = read_reply(id);
  if (reply.contains("error")) throw std::runtime_error(method + ": " + reply["error"].dump());
  return reply["result"];
}

json Chromium::read_reply(int id) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    for (std::size_t end; (end = pending_.find('\0')) != std::string::npos;) {
      json m = json::parse(pending_.substr(0, end), nullptr, false);
      pending_.erase(0, end + 1);
      if (m.is_object() && m.value("id", -1) == id) return m;  // events are skipped
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        give_up - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("no answer from chromium within 20 s");
    pollfd p{from_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    const ssize_t n = read(from_, buf, sizeof buf);
    if (n <= 0) throw std::runtime_error("chromium closed its pipe");
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

void Chromium::navigate(const std::string& url) {
  call("Page.navigate", {{"url", url}});
  wait_for("document.readyState === 'complete' && location.href.startsWith('" + url.substr(0, 20) +
           "')");
}

json Chromium::eval(const std::string& expression) {
  const json r = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}});
  if (r.contains("exceptionDetails")) throw std::runtime_error("page script: " + r.dump());
  return r["result"].value("value", json());
}

bool Chromium::wait_for(const std::string& condition, std::chrono::milliseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < give_up) {
    try {
      if (eval("document.readyState === 'complete' && (" + condition + ")") == json(true))
        return true;
    } catch (const std::exception&) {
      // A page in the middle of navigating: try again.
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void Chromium::screenshot(const std::string& png_path) {
  const json r =
      call("Page.captureScreenshot", {{"format", "png"}, {"captureBeyondViewport", true}});
  std::ofstream(png_path, std::ios::binary) << base64_decode(r["data"].get<std::string>());
}

}  // namespace vs::test
