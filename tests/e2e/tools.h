// Running the project's command-line tools from an e2e test (their folder is VS_TOOLS_DIR).
#pragma once

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/process.h"

namespace vs::test {

inline std::string bin(const char* tool) { return std::string(VS_TOOLS_DIR) + "/" + tool; }

inline RunResult tool(const char* name, const std::vector<std::string>& args) {
  return run(bin(name), args);
}

// Runs a tool that must succeed (the test fails otherwise); its stdout without the final
// newlines.
inline std::string ok(const char* name, const std::vector<std::string>& args) {
  RunResult r = tool(name, args);
  INFO(name << " " << (args.empty() ? "" : args[0]) << " -> " << r.exit_code << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

}  // namespace vs::test
