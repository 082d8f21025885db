// Pull cursors: their text form and the digests of scope sets (cursor.h).
#include "hub/cursor.h"

#include <algorithm>
#include <charconv>

#include <openssl/evp.h>

#include "util/bytes.h"

namespace vs::hub {

std::uint64_t mark_of(std::uint64_t pos, bool filling, std::uint64_t fill_end) {
  return std::max(pos, filling ? fill_end : 0);
}

std::string join(const Scopes& s) {
  std::string out;
  for (const std::string& x : s) out += (out.empty() ? "" : ",") + x;
  return out;
}

Scopes split(std::string_view text) {
  Scopes out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    out.emplace(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string digest_of(const Scopes& s) {
  if (s.empty()) return "-";
  const std::string text = join(s);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  return util::to_hex(std::string_view(reinterpret_cast<const char*>(md), 8));
}

namespace {

bool is_digest(std::string_view d) {
  return d == "-" || (d.size() == 16 && std::all_of(d.begin(), d.end(), [](char c) {
                        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                      }));
}

}  // namespace

std::string encode_cursor(const CursorText& c) {
  std::string out = "p=" + std::to_string(c.pos) + ";s=" + c.served;
  if (c.filling) {
    out += ";f=" + std::to_string(c.fill_end) + ";n=" + c.fill + ";r=" + std::to_string(c.record) +
           ";q=" + std::to_string(c.record_pos);
  }
  if (c.filling && c.own) out += ";o=1";
  if (c.print) out += ";k=" + std::to_string(*c.print);
  return out;
}

Result<CursorText> parse_cursor(std::string_view text) {
  CursorText c;
  if (text.empty()) return c;
  const Status bad =
      Status::invalid_input("malformed pull cursor '" + std::string(text.substr(0, 64)) + "'");
  bool has_pos = false;
  int fill_parts = 0;
  while (!text.empty()) {
    const std::size_t semi = text.find(';');
    const std::string_view part = text.substr(0, semi);
    if (part.size() < 2 || part[1] != '=') return bad;
    const std::string_view value = part.substr(2);
    auto number = [&](std::uint64_t& out) {
      const auto res = std::from_chars(value.data(), value.data() + value.size(), out);
      return res.ec == std::errc() && res.ptr == value.data() + value.size();
    };
    bool ok = true;
    switch (part[0]) {
      case 'p':
        ok = number(c.pos);
        has_pos = true;
        break;
      case 's':
        ok = is_digest(value);
        c.served = std::string(value);
        break;
      case 'f':
        ok = number(c.fill_end);
        ++fill_parts;
        break;
      case 'n':
        ok = is_digest(value);
        c.fill = std::string(value);
        ++fill_parts;
        break;
      case 'r':
        ok = number(c.record);
        ++fill_parts;
        break;
      case 'q':
        ok = number(c.record_pos);
        ++fill_parts;
        break;
      case 'o':
        ok = value == "1";
        c.own = true;
        break;
      case 'k': {
        std::uint64_t print = 0;
        ok = number(print);
        c.print = print;
        break;
      }
      default:
        ok = false;
    }
    if (!ok) return bad;
    if (semi == std::string_view::npos) break;
    text.remove_prefix(semi + 1);
  }
  c.filling = fill_parts == 4;
  if (!has_pos || (fill_parts != 0 && fill_parts != 4) || c.record > INT64_MAX) return bad;
  return c;
}

}  // namespace vs::hub
