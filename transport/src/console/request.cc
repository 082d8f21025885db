#include "console/request.h"

#include "util/bytes.h"

namespace vs::console {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes (and '+' as a space in queries and forms), then a UTF-8 check.
Result<std::string> decode(std::string_view s, bool plus_is_space, std::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      const bool room = i + 2 < s.size();
      const int hi = room ? hex_digit(s[i + 1]) : -1;
      const int lo = room ? hex_digit(s[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return Status::invalid_input(std::string(what) + ": a '%' not followed by two hex digits");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(plus_is_space && c == '+' ? ' ' : c);
    }
  }
  if (!util::valid_utf8(out)) return Status::invalid_input(std::string(what) + " is not UTF-8");
  return out;
}

}  // namespace

std::string Request::arg(std::string_view name) const {
  const auto it = query.find(name);
  return it == query.end() ? "" : it->second;
}

std::string Request::field(std::string_view name) const {
  const auto it = form.find(name);
  return it == form.end() ? "" : it->second;
}

Response Response::redirect(std::string location) {
  Response r;
  r.status = 303;
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Result<Fields> parse_form(std::string_view body) {
  Fields out;
  if (body.empty()) return out;
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find('&', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view pair = body.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    if (out.size() == kMaxFields)
      return Status::invalid_input("more than " + std::to_string(kMaxFields) + " fields");
    const std::size_t eq = pair.find('=');
    Result<std::string> name = decode(pair.substr(0, eq), true, "a field name");
    if (!name.ok()) return name.status();
    if (name->empty() || name->size() > kMaxFieldNameBytes)
      return Status::invalid_input("a field name must be 1 to 64 bytes");
    Result<std::string> value =
        decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true,
               "field '" + name.value() + "'");
    if (!value.ok()) return value.status();
    if (value->size() > kMaxFieldBytes)
      return Status::invalid_input("field '" + name.value() + "' is over 64 KiB");
    if (!out.emplace(std::move(name.value()), std::move(value.value())).second)
      return Status::invalid_input("a field is given twice");
  }
  return out;
}

Status parse_target(std::string_view target, Request& out) {
  if (target.size() > kMaxTargetBytes) return Status::invalid_input("the URL is over 4096 bytes");
  if (target.empty() || target[0] != '/')
    return Status::invalid_input("the request target must be a path starting with '/'");
  const std::size_t q = target.find('?');
  Result<std::string> path = decode(target.substr(0, q), false, "the path");
  if (!path.ok()) return path.status();
  if (path->find('\0') != std::string::npos || path->find("..") != std::string::npos)
    return Status::invalid_input("the path holds NUL or '..'");
  out.path = std::move(path.value());
  if (q == std::string_view::npos) return Status();
  Result<Fields> query = parse_form(target.substr(q + 1));
  if (!query.ok()) return query.status().annotated("the query");
  out.query = std::move(query.value());
  return Status();
}

Fields parse_cookies(std::string_view header) {
  Fields out;
  std::size_t start = 0;
  while (start < header.size() && out.size() < kMaxFields) {
    std::size_t end = header.find(';', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(start, end - start);
    start = end + 1;
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const std::size_t eq = pair.find('=');
    if (eq == 0 || eq == std::string_view::npos) continue;
    out.emplace(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
  }
  return out;
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace vs::console
