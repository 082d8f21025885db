// The console's HTTP requests and responses as its pages see them, and the one definition of a
// valid query, form and cookie header (percent-decoding, limits, UTF-8). No Beast types: the
// pages are plain functions of a Request.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <visitsync/status.h>

namespace vs::console {

// Limits on what a request may carry; past them it is refused with 400 (or 413 for the body).
inline constexpr std::size_t kMaxFields = 100;           // in a query or a form
inline constexpr std::size_t kMaxFieldNameBytes = 64;    // decoded
inline constexpr std::size_t kMaxFieldBytes = 64 << 10;  // a decoded value
inline constexpr std::size_t kMaxBodyBytes = 1 << 20;
inline constexpr std::size_t kMaxTargetBytes = 4096;

using Fields = std::map<std::string, std::string, std::less<>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded, starts with '/'
  Fields query;
  Fields form;                // an application/x-www-form-urlencoded POST body
  Fields cookies;             // name -> value, as sent
  std::string peer;           // the client's IP address
  std::string authorization;  // the Authorization header, as sent

  // A field of the query or form, "" when absent.
  std::string arg(std::string_view name) const;
  std::string field(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Set-Cookie, Location, ...

  static Response redirect(std::string location);  // 303 See Other
  static Response text(int status, std::string body);
};

// Splits a request target "/path?query" into its decoded path and query fields. kInvalidInput
// names what is wrong: a target that is not origin-form, a bad %-escape, text that is not
// UTF-8, a path with ".." or NUL, too many or too long fields, a repeated name.
Status parse_target(std::string_view target, Request& out);
// Decodes an application/x-www-form-urlencoded body under the same rules.
Result<Fields> parse_form(std::string_view body);
// The cookies of a Cookie header ("a=1; b=2"); malformed pairs are skipped, as browsers do.
Fields parse_cookies(std::string_view header);

// Percent-encodes for a query value or a path segment (everything but A-Z a-z 0-9 - . _ ~).
std::string url_encode(std::string_view s);

}  // namespace vs::console
