// What every fuzz target asserts beyond "no crash, no sanitizer report": a refusal is a Status
// with a code and a message, and what was accepted survives a round trip.
#pragma once

#include <cstdio>
#include <cstdlib>

#include <visitsync/status.h>

namespace vs::fuzz {

// Aborts (a finding for libFuzzer) when `s` is an error without a message.
inline void refused_with_reason(const Status& s) {
  if (!s.ok() && s.message().empty()) {
    std::fprintf(stderr, "refused without a reason (code %d)\n", static_cast<int>(s.code()));
    std::abort();
  }
}

// Aborts when `holds` is false: an accepted input that does not survive its round trip.
inline void expect(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "fuzz check failed: %s\n", what);
    std::abort();
  }
}

}  // namespace vs::fuzz
