// Value, dates, stamps and op checks: the vocabulary of types.h.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <visitsync/types.h>

#include "util/bytes.h"

namespace vs {
namespace {

using Kind = Value::Kind;

// Seqs and stamps are stored in SQLite's signed 64-bit integers.
constexpr std::uint64_t kMaxSeq = 0x7FFFFFFFFFFFFFFFull;

template <class T>
int cmp3(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Days since 1970-01-01 of a proleptic Gregorian date, by counting eras of 400 years that start
// on March 1st (so the leap day falls at the end of a year).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

std::string format_double(double v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

// True when every byte is printable ASCII (0x20 to 0x7F), tested eight bytes at a time: names
// are checked for every op applied.
bool printable_ascii(std::string_view s) {
  constexpr std::uint64_t kHigh = 0x8080808080808080u;
  constexpr std::uint64_t kSpaces = 0x2020202020202020u;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    // Bytes of 0x80 and above, then (with none of those) bytes below 0x20.
    if ((w & kHigh) != 0 || ((w - kSpaces) & ~w & kHigh) != 0) return false;
  }
  for (; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x20 || b >= 0x80) return false;
  }
  return true;
}

Status check_name(std::string_view what, std::string_view s, std::size_t max) {
  if (s.empty()) return Status::invalid_input(std::string(what) + " is empty");
  if (s.size() > max) {
    return Status::invalid_input(std::string(what) + " is " + std::to_string(s.size()) +
                                 " bytes, at most " + std::to_string(max) + " allowed");
  }
  if (printable_ascii(s)) return Status();
  // Otherwise, one pass for control characters, then the full UTF-8 check.
  bool ascii = true;
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20) return Status::invalid_input(std::string(what) + " contains a control character");
    ascii = ascii && b < 0x80;
  }
  if (!ascii && !util::valid_utf8(s))
    return Status::invalid_input(std::string(what) + " is not UTF-8");
  return Status();
}

}  // namespace

std::string_view policy_name(Policy policy) {
  switch (policy) {
    case Policy::kLww:
      return "lww";
    case Policy::kMax:
      return "max";
    case Policy::kMin:
      return "min";
    case Policy::kUnion:
      return "union";
    case Policy::kAppend:
      return "append";
    case Policy::kCounter:
      return "counter";
  }
  return "unknown";
}

Result<Policy> parse_policy(std::string_view name) {
  for (int i = 0; i < kPolicyCount; ++i) {
    const auto p = static_cast<Policy>(i);
    if (policy_name(p) == name) return p;
  }
  return Status::invalid_input("unknown merge policy '" + std::string(name) +
                               "' (expected lww, max, min, union, append or counter)");
}

std::string_view kind_name(Value::Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "bool";
    case Kind::kInteger:
      return "integer";
    case Kind::kDecimal:
      return "decimal";
    case Kind::kText:
      return "text";
    case Kind::kDate:
      return "date";
    case Kind::kSet:
      return "set";
    case Kind::kGps:
      return "gps";
    case Kind::kAttachment:
      return "attachment";
    case Kind::kChoice:
      return "choice";
  }
  return "unknown";
}

Value Value::decimal(double d) { return Value(d == 0 ? 0.0 : d); }

Value Value::set(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return Value(SetItems{std::move(items)});
}

Status Value::check() const {
  switch (kind()) {
    case Kind::kDate:
      if (as_date().days < kMinDateDays || as_date().days > kMaxDateDays) {
        return Status::invalid_input("date of day " + std::to_string(as_date().days) +
                                     " is outside 0001-01-01..9999-12-31");
      }
      break;
    case Kind::kDecimal:
      if (!std::isfinite(as_decimal())) return Status::invalid_input("decimal is not finite");
      break;
    case Kind::kText:
      if (as_text().size() > kMaxTextBytes) {
        return Status::invalid_input("text is " + std::to_string(as_text().size()) +
                                     " bytes, at most " + std::to_string(kMaxTextBytes));
      }
      if (!util::valid_utf8(as_text())) return Status::invalid_input("text is not UTF-8");
      break;
    case Kind::kSet:
      if (as_set().size() > kMaxSetItems) {
        return Status::invalid_input("set has " + std::to_string(as_set().size()) +
                                     " items, at most " + std::to_string(kMaxSetItems));
      }
      for (const std::string& item : as_set()) {
        if (Status s = check_name("set item", item, kMaxSetItemBytes); !s.ok()) return s;
      }
      break;
    case Kind::kGps: {
      const GeoPoint& p = as_gps();
      if (!(p.lat >= -90 && p.lat <= 90) || !(p.lon >= -180 && p.lon <= 180)) {
        return Status::invalid_input("gps point " + to_string() + " is outside -90..90, -180..180");
      }
      if (p.accuracy_m && !(*p.accuracy_m >= 0 && *p.accuracy_m <= 1e7)) {
        return Status::invalid_input("gps accuracy must be 0 to 10000000 metres");
      }
      break;
    }
    case Kind::kAttachment:
      if (Status s = check_name("media type", as_attachment().media_type, kMaxMediaTypeBytes);
          !s.ok()) {
        return s;
      }
      break;
    case Kind::kChoice:
      return check_name("choice key", as_choice().key, kMaxFieldBytes);
    default:
      break;
  }
  return Status();
}

int compare(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return cmp3(a.kind(), b.kind());
  switch (a.kind()) {
    case Kind::kNull:
      return 0;
    case Kind::kBool:
      return cmp3(a.as_bool(), b.as_bool());
    case Kind::kInteger:
      return cmp3(a.as_integer(), b.as_integer());
    case Kind::kDecimal:
      return cmp3(a.as_decimal(), b.as_decimal());
    case Kind::kText:
      return cmp3(a.as_text(), b.as_text());
    case Kind::kDate:
      return cmp3(a.as_date().days, b.as_date().days);
    case Kind::kSet:
      return cmp3(a.as_set(), b.as_set());
    case Kind::kGps: {
      const GeoPoint& p = a.as_gps();
      const GeoPoint& q = b.as_gps();
      if (int c = cmp3(p.lat, q.lat); c != 0) return c;
      if (int c = cmp3(p.lon, q.lon); c != 0) return c;
      return cmp3(p.accuracy_m, q.accuracy_m);
    }
    case Kind::kAttachment: {
      const Attachment& p = a.as_attachment();
      const Attachment& q = b.as_attachment();
      if (int c = cmp3(p.sha256, q.sha256); c != 0) return c;
      if (int c = cmp3(p.size_bytes, q.size_bytes); c != 0) return c;
      return cmp3(p.media_type, q.media_type);
    }
    case Kind::kChoice: {
      if (int c = cmp3(a.as_choice().rank, b.as_choice().rank); c != 0) return c;
      return cmp3(a.as_choice().key, b.as_choice().key);
    }
  }
  return 0;
}

std::string Value::to_string() const {
  switch (kind()) {
    case Kind::kNull:
      return "";
    case Kind::kBool:
      return as_bool() ? "yes" : "no";
    case Kind::kInteger:
      return std::to_string(as_integer());
    case Kind::kDecimal:
      return format_double(as_decimal());
    case Kind::kText:
      return as_text();
    case Kind::kDate:
      return format_date(as_date());
    case Kind::kSet: {
      std::string out;
      for (const std::string& item : as_set()) {
        if (!out.empty()) out += ',';
        out += item;
      }
      return out;
    }
    case Kind::kGps: {
      const GeoPoint& p = as_gps();
      std::string out = format_double(p.lat) + "," + format_double(p.lon);
      if (p.accuracy_m) out += "," + format_double(*p.accuracy_m);
      return out;
    }
    case Kind::kAttachment: {
      const Attachment& a = as_attachment();
      return "sha256:" +
             util::to_hex(std::string_view(reinterpret_cast<const char*>(a.sha256.data()),
                                           a.sha256.size())) +
             " " + std::to_string(a.size_bytes) + " " + a.media_type;
    }
    case Kind::kChoice:
      return as_choice().key;
  }
  return "";
}

Result<Date> parse_date(std::string_view text) {
  auto bad = [&] {
    return Status::invalid_input("'" + std::string(text) + "' is not a date (YYYY-MM-DD)");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  const char* p = text.data();
  auto digits = [](const char* b, const char* e) {
    return std::all_of(b, e, [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(p, p + 4) || !digits(p + 5, p + 7) || !digits(p + 8, p + 10)) return bad();
  std::from_chars(p, p + 4, y);
  std::from_chars(p + 5, p + 7, m);
  std::from_chars(p + 8, p + 10, d);
  static constexpr unsigned kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1) {
    return Status::invalid_input("'" + std::string(text) +
                                 "' is not a date from 0001-01-01 to 9999-12-31");
  }
  if (m < 1 || m > 12 || d < 1) return bad();
  if (d > kDaysIn[m - 1] + (m == 2 && leap ? 1 : 0)) return bad();
  return Date{static_cast<std::int32_t>(days_from_civil(y, m, d))};
}

std::string format_date(Date date) {
  std::int64_t y;
  unsigned m;
  unsigned d;
  civil_from_days(date.days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string format_hlc(Hlc h) {
  const auto ms = static_cast<std::int64_t>(hlc_millis(h));
  const std::int64_t days = ms / 86400000;
  const std::int64_t rest = ms % 86400000;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lld.%03lldZ",
                format_date(Date{static_cast<std::int32_t>(days)}).c_str(),
                static_cast<long long>(rest / 3600000), static_cast<long long>(rest / 60000 % 60),
                static_cast<long long>(rest / 1000 % 60), static_cast<long long>(rest % 1000));
  std::string out = buf;
  if (hlc_counter(h) != 0) out += "+" + std::to_string(hlc_counter(h));
  return out;
}

std::string OpId::to_string() const { return device + "#" + std::to_string(seq); }

Status Op::check() const {
  if (Status s = check_name("device id", id.device, kMaxDeviceIdBytes); !s.ok()) return s;
  if (id.seq == 0) return Status::invalid_input("origin seq is 0 (seqs start at 1)");
  if (id.seq > kMaxSeq) return Status::invalid_input("origin seq is above 2^63");
  if (hlc == 0) return Status::invalid_input("stamp is 0");
  if (hlc > kMaxSeq) return Status::invalid_input("stamp is above 2^63");
  if (Status s = check_name("record", record, kMaxRecordBytes); !s.ok()) return s;
  if (Status s = check_name("field", field, kMaxFieldBytes); !s.ok()) return s;
  if (static_cast<int>(policy) >= kPolicyCount) {
    return Status::invalid_input("unknown merge policy " +
                                 std::to_string(static_cast<int>(policy)));
  }
  if (Status s = value.check(); !s.ok()) return s;
  if (policy == Policy::kCounter && value.kind() != Value::Kind::kInteger) {
    return Status::invalid_input("a counter increment must be an integer, got " +
                                 std::string(kind_name(value.kind())));
  }
  if (policy == Policy::kUnion && value.kind() != Value::Kind::kSet && !value.is_null()) {
    return Status::invalid_input("a union field holds a set, got " +
                                 std::string(kind_name(value.kind())));
  }
  if (base.size() > kMaxBaseEntries) {
    return Status::invalid_input("base names " + std::to_string(base.size()) + " ops, at most " +
                                 std::to_string(kMaxBaseEntries));
  }
  for (const OpId& b : base) {
    if (Status s = check_name("base device id", b.device, kMaxDeviceIdBytes); !s.ok()) return s;
    if (b.seq == 0 || b.seq > kMaxSeq)
      return Status::invalid_input("base names seq " + std::to_string(b.seq));
  }
  return Status();
}

std::size_t batch_elements(const Op& op) {
  return op.base.size() + (op.value.kind() == Value::Kind::kSet ? op.value.as_set().size() : 0);
}

std::uint64_t fingerprint(const Op& op) {
  std::string bytes;
  util::ByteWriter w(bytes);
  w.str(op.id.device);
  w.varint(op.id.seq);
  w.varint(op.hlc);
  w.str(op.record);
  w.str(op.field);
  w.u8(static_cast<std::uint8_t>(op.policy));
  w.varint(op.context);
  encode_value(op.value, bytes);
  for (const OpId& b : op.base) {
    w.str(b.device);
    w.varint(b.seq);
  }
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h == 0 ? 1 : h;
}

const FieldView* RecordView::find(std::string_view field) const {
  for (const FieldView& f : fields) {
    if (f.field == field) return &f;
  }
  return nullptr;
}

}  // namespace vs
