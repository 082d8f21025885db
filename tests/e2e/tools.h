// Running the project's command-line tools from an e2e test (their folder is VS_TOOLS_DIR).
#pragma once

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/process.h"
#include "support/test_support.h"

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

// The non-empty lines of a text, as a set (exports compared whatever their order).
inline std::set<std::string> line_set(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.insert(line);
  }
  return out;
}

// A hub's data folder made with visitsync-admin as an administrator would: the sample
// reference data and the school-conditions template, for a hub on 127.0.0.1.
struct HubFolder {
  std::string path;
  std::uint16_t port = 0;
  std::string address;
  std::string reference;
};

inline HubFolder make_hub_folder(const TempDir& dir) {
  HubFolder h;
  h.path = dir.file("hub");
  h.port = free_port();
  h.address = "127.0.0.1:" + std::to_string(h.port);
  h.reference = sample_dir();
  ok("visitsync-admin", {"init", "--data", h.path, "--hub-address", h.address});
  for (const char* k : {"schools", "inspectors", "assignments"}) {
    ok("visitsync-admin", {"import", "--data", h.path, k, h.reference + "/" + k + ".csv"});
  }
  ok("visitsync-admin",
     {"template", "publish", "--data", h.path, templates_dir() + "/school-conditions.json"});
  return h;
}

}  // namespace vs::test
