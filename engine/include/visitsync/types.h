// The engine's vocabulary: values, merge policies, op ids, ops and the views a replica returns.
//
// These are plain value types, copyable and comparable, with no storage or network types in
// them. engine/MERGE.md defines their meaning.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <visitsync/status.h>

namespace vs {

// Limits on what one op may carry. Larger input is refused with kInvalidInput.
inline constexpr std::size_t kMaxDeviceIdBytes = 64;
inline constexpr std::size_t kMaxRecordBytes = 128;
inline constexpr std::size_t kMaxFieldBytes = 64;
inline constexpr std::size_t kMaxTextBytes = std::size_t{64} * 1024;
inline constexpr std::size_t kMaxSetItems = 1000;
inline constexpr std::size_t kMaxSetItemBytes = 256;
inline constexpr std::size_t kMaxBaseEntries = 64;
inline constexpr std::size_t kMaxMediaTypeBytes = 128;

// How concurrent writes to one field meet (engine/MERGE.md). Values are stored and sent
// on the wire: only ever append.
enum class Policy : std::uint8_t {
  kLww = 0,      // value of the highest stamp; flagged when concurrent values differ
  kMax = 1,      // largest concurrent value
  kMin = 2,      // smallest concurrent value
  kUnion = 3,    // union of concurrent sets: a concurrent add and remove keeps the add
  kAppend = 4,   // every entry ever written, ordered by stamp
  kCounter = 5,  // sum of every increment ever written
};
inline constexpr int kPolicyCount = 6;

std::string_view policy_name(Policy policy);
// Parses "lww", "max", "min", "union", "append", "counter".
Result<Policy> parse_policy(std::string_view name);

// A calendar date, as days since 1970-01-01. A value holds a date from 0001-01-01 to
// 9999-12-31, the years YYYY-MM-DD writes: Value::check, parse_date and the store's codec keep
// to this one range.
inline constexpr std::int32_t kMinDateDays = -719162;  // 0001-01-01
inline constexpr std::int32_t kMaxDateDays = 2932896;  // 9999-12-31
struct Date {
  std::int32_t days = 0;
  friend bool operator==(Date a, Date b) { return a.days == b.days; }
};

// A GPS fix. accuracy_m is absent when the device did not report one.
struct GeoPoint {
  double lat = 0;
  double lon = 0;
  std::optional<double> accuracy_m;
  friend bool operator==(const GeoPoint& a, const GeoPoint& b) {
    return a.lat == b.lat && a.lon == b.lon && a.accuracy_m == b.accuracy_m;
  }
};

// A reference to an attachment's content, addressed by its SHA-256.
struct Attachment {
  std::array<std::uint8_t, 32> sha256{};
  std::uint64_t size_bytes = 0;
  std::string media_type;
  friend bool operator==(const Attachment& a, const Attachment& b) {
    return a.sha256 == b.sha256 && a.size_bytes == b.size_bytes && a.media_type == b.media_type;
  }
};

// One option of a choice item: its key and its position in the item's option list, so that the
// max/min policies order options as the template lists them.
struct Choice {
  std::uint32_t rank = 0;
  std::string key;
  friend bool operator==(const Choice& a, const Choice& b) {
    return a.rank == b.rank && a.key == b.key;
  }
};

// A field value. Sets are kept sorted and free of duplicates; decimals are finite doubles with
// -0 stored as 0, so equal values have equal encodings.
class Value {
 public:
  // Kinds in the order that max/min use across kinds (a field normally holds one kind).
  enum class Kind : std::uint8_t {
    kNull = 0,
    kBool = 1,
    kInteger = 2,
    kDecimal = 3,
    kText = 4,
    kDate = 5,
    kSet = 6,
    kGps = 7,
    kAttachment = 8,
    kChoice = 9,
  };

  Value() = default;  // null
  static Value null() { return Value(); }
  static Value boolean(bool b) { return Value(b); }
  static Value integer(std::int64_t i) { return Value(i); }
  static Value decimal(double d);
  static Value text(std::string s) { return Value(std::move(s)); }
  static Value date(Date d) { return Value(d); }
  static Value set(std::vector<std::string> items);  // sorts and removes duplicates
  static Value gps(GeoPoint p) { return Value(p); }
  static Value attachment(Attachment a) { return Value(std::move(a)); }
  static Value choice(Choice c) { return Value(std::move(c)); }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }

  // Accessors. Requires: kind() is the matching kind.
  bool as_bool() const { return std::get<bool>(v_); }
  std::int64_t as_integer() const { return std::get<std::int64_t>(v_); }
  double as_decimal() const { return std::get<double>(v_); }
  const std::string& as_text() const { return std::get<std::string>(v_); }
  Date as_date() const { return std::get<Date>(v_); }
  const std::vector<std::string>& as_set() const { return std::get<SetItems>(v_).items; }
  const GeoPoint& as_gps() const { return std::get<GeoPoint>(v_); }
  const Attachment& as_attachment() const { return std::get<Attachment>(v_); }
  const Choice& as_choice() const { return std::get<Choice>(v_); }

  // Checks limits and invariants (finite decimals, sizes, valid coordinates, UTF-8 text).
  Status check() const;

  // A total order: by kind, then within the kind (false < true, numbers, dates, choices by rank,
  // text and sets lexicographically by bytes).
  friend int compare(const Value& a, const Value& b);
  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

  // Human-readable form: yes/no, numbers as written, YYYY-MM-DD, "a,b", "lat,lon[,acc]",
  // "sha256:<hex> <size> <type>", null as "".
  std::string to_string() const;

 private:
  struct SetItems {
    std::vector<std::string> items;
    friend bool operator==(const SetItems& a, const SetItems& b) { return a.items == b.items; }
  };
  using Variant = std::variant<std::monostate, bool, std::int64_t, double, std::string, Date,
                               SetItems, GeoPoint, Attachment, Choice>;
  template <class T>
  explicit Value(T v) : v_(std::move(v)) {}
  Variant v_;
};

std::string_view kind_name(Value::Kind kind);

// The canonical binary form of a value: what the store keeps, the digest hashes and the wire
// carries. Equal values have equal bytes.
void encode_value(const Value& v, std::string& out);
// Decodes bytes that hold exactly one value; kCorrupt names what is malformed.
Result<Value> decode_value(std::string_view bytes);

// Dates as YYYY-MM-DD (proleptic Gregorian). parse_date refuses anything else.
Result<Date> parse_date(std::string_view text);
std::string format_date(Date d);

// A hybrid logical clock reading: milliseconds since the epoch in the high 48 bits, a logical
// counter in the low 16.
using Hlc = std::uint64_t;
inline constexpr Hlc make_hlc(std::uint64_t millis, std::uint32_t counter) {
  return (millis << 16) | (counter & 0xFFFFu);
}
inline constexpr std::uint64_t hlc_millis(Hlc h) { return h >> 16; }
inline constexpr std::uint32_t hlc_counter(Hlc h) {
  return static_cast<std::uint32_t>(h & 0xFFFFu);
}
// "2026-11-23T10:15:02.123Z+3" (the logical counter after the plus, when non-zero).
std::string format_hlc(Hlc h);

// Names one op everywhere: the device that made it and that device's sequence number (1, 2, 3 …).
struct OpId {
  std::string device;
  std::uint64_t seq = 0;
  friend bool operator==(const OpId& a, const OpId& b) {
    return a.seq == b.seq && a.device == b.device;
  }
  friend bool operator!=(const OpId& a, const OpId& b) { return !(a == b); }
  friend bool operator<(const OpId& a, const OpId& b) {
    return a.device != b.device ? a.device < b.device : a.seq < b.seq;
  }
  std::string to_string() const;  // "device#seq"
};

// One write, as it travels between replicas. Its stamp is (hlc, id.device). base names the ops
// whose value the writer saw for this field (engine/MERGE.md): they are superseded.
// context is the application's: the engine stores and carries it and never reads it (the
// inspection layer keeps a visit's review round there).
struct Op {
  OpId id;
  Hlc hlc = 0;
  std::string record;
  std::string field;
  Policy policy = Policy::kLww;
  Value value;
  std::vector<OpId> base;
  std::uint32_t context = 0;

  // Checks sizes, names and that the value suits the policy (counter: integer; union: set or
  // null). The message names the offending part.
  Status check() const;
};

// A 64-bit fingerprint of everything an op holds: two different ops under one id (a device
// restored from a backup reuses seqs) are told apart. Never 0.
std::uint64_t fingerprint(const Op& op);

// Set items and base entries one batch of ops (a push, a pull) holds at most: each costs tens
// of bytes of memory for a byte or two on the wire, so the wire's decoder counts them and every
// producer of a batch stops before it. One op holds at most kMaxSetItems + kMaxBaseEntries.
inline constexpr std::size_t kMaxBatchElements = 400'000;
// The op's share of that budget.
std::size_t batch_elements(const Op& op);

// A write made on this replica: the engine adds the stamp, the seq and the base.
struct Write {
  std::string record;
  std::string field;
  Policy policy = Policy::kLww;
  Value value;
  std::uint32_t context = 0;
};

// One value of a field with its provenance.
struct Version {
  OpId op;
  Hlc hlc = 0;
  Value value;
  std::uint32_t context = 0;
};

// The merged state of one field.
struct FieldView {
  std::string field;
  Policy policy = Policy::kLww;
  Value value;            // the merged value; for append, the newest entry (entries lists them all)
  bool conflict = false;  // lww with concurrent, differing values
  // For lww/max/min/union: the concurrent versions (the causal frontier), oldest stamp first.
  // For append: every entry, ordered by stamp. For counter: empty.
  std::vector<Version> versions;
};

struct RecordView {
  std::string record;
  std::vector<FieldView> fields;  // sorted by field name
  const FieldView* find(std::string_view field) const;
};

// A field flagged for review, with every competing value.
struct Conflict {
  std::string record;
  std::string field;
  std::vector<Version> versions;  // oldest stamp first
};

}  // namespace vs
