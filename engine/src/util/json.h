// Untrusted JSON text, parsed within limits. nlohmann's parser and the values it builds recurse
// once per nesting level, so a deep enough text overflows the stack (100,000 levels crash on an
// 8 MiB stack, far fewer on a phone's secondary thread): the depth is checked first, without
// recursion, and so is the size. Every JSON input (templates, reviews, enrollment files and
// requests) is parsed here.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <visitsync/status.h>

namespace vs::util {

// Deeper than any document visitsync reads (a template nests six levels).
inline constexpr int kMaxJsonDepth = 64;

// The parsed value, or kInvalidInput "<what>: ..." naming the limit passed or the byte where
// the text stops being JSON. The message quotes nothing of the text.
Result<nlohmann::json> parse_json(std::string_view text, std::string_view what,
                                  std::size_t max_bytes, int max_depth = kMaxJsonDepth);

// A member of an object when it is a string, else nullopt (never an exception, whatever the
// member holds).
std::optional<std::string> string_member(const nlohmann::json& object, const char* key);

}  // namespace vs::util
