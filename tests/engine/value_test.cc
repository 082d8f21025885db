// Values: the canonical encoding, the order max/min use, dates, and the checks on input.
#include <limits>

#include <catch2/catch.hpp>

#include <visitsync/types.h>

using namespace vs;

namespace {

std::vector<Value> samples() {
  Attachment photo;
  photo.sha256.fill(0xAB);
  photo.size_bytes = 1'234'567;
  photo.media_type = "image/jpeg";
  return {Value(),
          Value::boolean(true),
          Value::integer(-42),
          Value::integer(std::numeric_limits<std::int64_t>::max()),
          Value::decimal(1642.9),
          Value::text("消防通道畅通; fire exit OK"),
          Value::date(*parse_date("2026-10-16")),
          Value::set({"water", "canteen"}),
          Value::gps({38.81707, 111.13139, 12.0}),
          Value::gps({-33.9, 151.2, std::nullopt}),
          Value::attachment(photo),
          Value::choice({2, "d_grade"})};
}

}  // namespace

TEST_CASE("every kind of value survives its encoding", "[engine][value]") {
  for (const Value& v : samples()) {
    INFO(kind_name(v.kind()) << " " << v.to_string());
    std::string bytes;
    encode_value(v, bytes);
    Result<Value> back = decode_value(bytes);
    REQUIRE(back.ok());
    CHECK(back.value() == v);
    CHECK(compare(back.value(), v) == 0);
  }
}

TEST_CASE("malformed value bytes are refused, never read past", "[engine][value][input]") {
  for (const Value& v : samples()) {
    std::string bytes;
    encode_value(v, bytes);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      Result<Value> r = decode_value(std::string_view(bytes).substr(0, cut));
      INFO(kind_name(v.kind()) << " cut at " << cut);
      CHECK_FALSE(r.ok());
      if (!r.ok()) CHECK(r.status().code() == Code::kCorrupt);
    }
    Result<Value> trailing = decode_value(bytes + "x");
    CHECK_FALSE(trailing.ok());
  }
  CHECK_FALSE(decode_value(std::string("\x63", 1)).ok());  // unknown kind
  CHECK_FALSE(
      decode_value(std::string("\x04\xff\xff\xff\xff\x0f", 6)).ok());  // text longer than input
  CHECK_FALSE(decode_value(std::string("\x06\x05\x01x", 4)).ok());     // set count beyond input
}

TEST_CASE("values order by kind, then naturally", "[engine][value]") {
  CHECK(compare(Value::boolean(false), Value::boolean(true)) < 0);
  CHECK(compare(Value::integer(9), Value::integer(10)) < 0);
  CHECK(compare(Value::choice({0, "none"}), Value::choice({2, "d_grade"})) < 0);
  CHECK(compare(Value::date(*parse_date("2026-01-31")), Value::date(*parse_date("2026-02-01"))) <
        0);
  CHECK(compare(Value(), Value::integer(-5)) < 0);
  CHECK(Value::decimal(-0.0) == Value::decimal(0.0));
  CHECK(Value::set({"b", "a", "b"}).as_set() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("dates parse strictly and print back", "[engine][value]") {
  for (const char* d : {"1970-01-01", "2024-02-29", "2026-11-23", "2100-12-31", "1899-03-01",
                        "0001-01-01", "9999-12-31"}) {
    Result<Date> parsed = parse_date(d);
    REQUIRE(parsed.ok());
    CHECK(format_date(parsed.value()) == d);
  }
  CHECK(parse_date("1970-01-02")->days == 1);
  for (const char* bad :
       {"2025-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "26-01-01", "2026/01/01", "",
        "2026-01-32", "２０２６-01-01", "0000-01-01", "0000-02-29", "0000-03-01", "0000-12-31"}) {
    INFO(bad);
    CHECK_FALSE(parse_date(bad).ok());
  }
  CHECK_THAT(parse_date("0000-03-01").status().message(),
             Catch::Contains("not a date from 0001-01-01 to 9999-12-31"));
}

// One range for every date: what Value::check accepts, the store's codec writes and reads back,
// and what it refuses, the codec refuses too (a pushed day 3,000,000 once made a log row
// unreadable for good).
TEST_CASE("a date outside 0001-01-01..9999-12-31 is refused wherever it enters",
          "[engine][value][input]") {
  for (const std::int32_t days : {kMinDateDays, kMaxDateDays, 0}) {
    const Value v = Value::date(Date{days});
    INFO(days);
    CHECK(v.check().ok());
    std::string bytes;
    encode_value(v, bytes);
    Result<Value> back = decode_value(bytes);
    REQUIRE(back.ok());
    CHECK(back.value() == v);
  }
  CHECK(format_date(Date{kMinDateDays}) == "0001-01-01");
  CHECK(format_date(Date{kMaxDateDays}) == "9999-12-31");
  for (const std::int32_t days :
       {kMinDateDays - 1, kMaxDateDays + 1, 3'000'000, -3'000'000,
        std::numeric_limits<std::int32_t>::max(), std::numeric_limits<std::int32_t>::min()}) {
    const Value v = Value::date(Date{days});
    INFO(days);
    CHECK_THAT(v.check().message(), Catch::Contains("outside 0001-01-01..9999-12-31"));
    std::string bytes;
    encode_value(v, bytes);
    CHECK(decode_value(bytes).status().code() == Code::kCorrupt);
  }
}

TEST_CASE("value checks name what is wrong", "[engine][value][input]") {
  CHECK_THAT(Value::decimal(std::numeric_limits<double>::infinity()).check().message(),
             Catch::Contains("not finite"));
  CHECK_THAT(Value::text("\xff\xfe").check().message(), Catch::Contains("not UTF-8"));
  CHECK_THAT(Value::text(std::string(kMaxTextBytes + 1, 'a')).check().message(),
             Catch::Contains("at most"));
  CHECK_THAT(Value::gps({91, 0, std::nullopt}).check().message(), Catch::Contains("outside"));
  CHECK(Value::gps({38.8, 111.1, 5.0}).check().ok());
}

TEST_CASE("op names are checked byte by byte, wherever the odd byte sits",
          "[engine][value][input]") {
  Op op;
  op.id = OpId{"d-1", 1};
  op.hlc = 1;
  op.record = "visit/S00001/x";
  op.field = "a.class_count";
  op.value = Value::integer(1);
  REQUIRE(op.check().ok());
  // Names of 1 to 24 bytes, with the odd byte at every position: the word-at-a-time check and
  // the byte loop must agree.
  for (std::size_t len = 1; len <= 24; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      INFO("length " << len << ", odd byte at " << at);
      std::string name(len, 'k');
      for (const char bad : {'\x01', '\x1f', '\n'}) {
        name[at] = bad;
        op.field = name;
        CHECK_THAT(op.check().message(), Catch::Contains("control character"));
      }
      name[at] = '\x7f';  // DEL is printable ASCII to this check
      op.field = name;
      CHECK(op.check().ok());
      name[at] = '\xff';
      op.field = name;
      CHECK_THAT(op.check().message(), Catch::Contains("not UTF-8"));
      if (at + 3 <= len) {
        name.replace(at, 3, "\xe4\xbb\xa3");  // 代, three bytes of UTF-8
        op.field = name;
        CHECK(op.check().ok());
      }
    }
  }
}
