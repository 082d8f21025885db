// Runs a real binary as a child process and collects what it printed (end-to-end tests).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace vs::test {

struct RunResult {
  int exit_code = -1;  // -1: killed (timeout) or did not start
  std::string out;
  std::string err;
};

// Runs `binary` with `args`, waits at most `limit`, and kills it (by its PID) past that.
RunResult run(const std::string& binary, const std::vector<std::string>& args,
              std::chrono::milliseconds limit = std::chrono::seconds(60));

}  // namespace vs::test
