// A headless Chromium (Debian's) driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on its fd 3, answers on its fd 4, each a JSON message
// ended by NUL), so no debugging port is opened. Enough of the protocol for the console's
// browser tests: one page, navigate, evaluate, wait, screenshot.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace vs::test {

class Chromium {
 public:
  // Starts /usr/bin/chromium with a fresh profile in `profile_dir`, trusting the certificate
  // whose public key hashes to `spki_sha256_b64` despite its name (the hub's, for 127.0.0.1).
  Chromium(const std::string& profile_dir, const std::string& spki_sha256_b64,
           const std::string& log_path);
  // Ends the browser by its PID (SIGKILL to its process group).
  ~Chromium();
  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  bool ready() const { return !session_.empty(); }
  // A command to the page's session; its "result", or throws (with the error) after 20 s.
  nlohmann::json call(const std::string& method, const nlohmann::json& params = {},
                      bool browser = false);
  void navigate(const std::string& url);
  // The value of a JavaScript expression in the page.
  nlohmann::json eval(const std::string& expression);
  // Waits until `condition` (JavaScript) is true in a loaded page; false after `limit`.
  bool wait_for(const std::string& condition,
                std::chrono::milliseconds limit = std::chrono::seconds(15));
  void screenshot(const std::string& png_path);

 private:
  nlohmann::json read_reply(int id);
  int pid_ = -1;
  int to_ = -1;    // our end of its fd 3
  int from_ = -1;  // our end of its fd 4
  int next_id_ = 1;
  std::string pending_;  // bytes read past the last message
  std::string session_;
};

}  // namespace vs::test
