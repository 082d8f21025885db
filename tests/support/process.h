// Runs a real binary as a child process and collects what it printed (end-to-end tests).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace vs::test {

struct RunResult {
  int exit_code = -1;  // -1: killed (timeout) or did not start
  std::string out;
  std::string err;
};

// Runs `binary` with `args` in a process group of its own, waits at most `limit`, and past that
// kills the group (by the child's PID): the child and whatever it started.
RunResult run(const std::string& binary, const std::vector<std::string>& args,
              std::chrono::milliseconds limit = std::chrono::seconds(60));

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0), for a hub
// whose address must be known before it starts; fails the test if none can be had.
std::uint16_t free_port();

}  // namespace vs::test

namespace vs::test {

// A long-running child (a hub): its stdout and stderr go to `log_path`. The destructor ends it
// by its PID: SIGTERM, then SIGKILL if it has not exited within 5 seconds.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::string& binary, const std::vector<std::string>& args,
                    const std::string& log_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool started() const { return pid_ > 0; }
  // Waits until the log holds `text` (true) or `limit` passes (false).
  bool wait_for_log(const std::string& text, std::chrono::milliseconds limit) const;
  std::string log() const;
  // Sends SIGTERM and waits for the exit; returns its exit code (-1 if killed or timed out).
  int terminate(std::chrono::milliseconds limit = std::chrono::seconds(5));
  // Sends SIGKILL (a crash, a pulled plug) and waits for it to end.
  void kill_now();
  bool running() const;

 private:
  int pid_ = -1;
  mutable bool reaped_ = false;  // running() saw it end: its PID is not ours to signal any more
  mutable int status_ = 0;
  std::string log_path_;
};

}  // namespace vs::test
