#include "util/json.h"

#include <string>

namespace vs::util {
namespace {

Status bad(std::string_view what, const std::string& why) {
  return Status::invalid_input(std::string(what) + ": " + why);
}

// The byte at which `text` nests deeper than `max_depth`, or npos. Brackets inside strings
// do not count; whether the rest is JSON is the parser's question.
std::size_t too_deep_at(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

Result<nlohmann::json> parse_json(std::string_view text, std::string_view what,
                                  std::size_t max_bytes, int max_depth) {
  if (text.size() > max_bytes) {
    return bad(what, std::to_string(text.size()) + " bytes, at most " + std::to_string(max_bytes) +
                         " allowed");
  }
  if (const std::size_t at = too_deep_at(text, max_depth); at != std::string_view::npos) {
    return bad(what, "nested deeper than " + std::to_string(max_depth) + " levels at byte " +
                         std::to_string(at + 1));
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return bad(what, "not valid JSON at byte " + std::to_string(e.byte));
  } catch (const std::exception&) {
    return bad(what, "not valid JSON");
  }
}

std::optional<std::string> string_member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace vs::util
