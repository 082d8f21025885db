// Templates: the shipped ones validate, bad ones are refused with the path of the problem, and
// every item type checks its answers.
#include <filesystem>
#include <functional>
#include <limits>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <visitsync/checklist.h>

#include "support/test_support.h"

using namespace vs;
using nlohmann::json;

namespace {

json minimal() {
  return json::parse(R"({
    "template_id": "t-1", "version": 1, "title": {"zh": "检查", "en": "Check"},
    "applies_to": ["primary"],
    "sections": [{"key": "s", "title": {"zh": "节", "en": "Section"}, "items": [
      {"key": "a", "type": "integer", "min": 0, "max": 10, "label": {"zh": "甲", "en": "A"}},
      {"key": "b", "type": "choice", "options": ["x", "y"], "label": {"zh": "乙", "en": "B"}}
    ]}]})");
}

Item item_of(const std::string& item_json) {
  json t = minimal();
  t["sections"][0]["items"] = json::array({json::parse(item_json)});
  t["sections"][0]["items"][0]["label"] = {{"zh", "项"}, {"en", "Item"}};
  Result<Template> parsed = parse_template(t.dump());
  INFO(parsed.status().to_string());
  REQUIRE(parsed.ok());
  return *parsed->items().front();
}

std::string error_of(const json& t) {
  Result<Template> r = parse_template(t.dump());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidInput);
  return r.status().message();
}

}  // namespace

TEST_CASE("the four shipped templates validate", "[engine][checklist]") {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::templates_dir())) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path());
    Result<Template> t = parse_template(test::slurp(entry.path().string()));
    INFO(t.status().to_string());
    REQUIRE(t.ok());
    CHECK(t->version == 1);
    CHECK_FALSE(t->items().empty());
    ++count;
  }
  CHECK(count == 4);
  Result<Template> sc =
      parse_template(test::slurp(test::templates_dir() + "/school-conditions.json"));
  REQUIRE(sc.ok());
  const Item* largest = sc->find("largest_class_size");
  REQUIRE(largest != nullptr);
  CHECK(largest->merge == Policy::kMax);
  CHECK(largest->required);
  REQUIRE(largest->rule);
  CHECK(*largest->rule->fail_above == 55);
  CHECK(sc->find("inspector_notes")->merge == Policy::kAppend);
  CHECK(sc->applies_to_level("primary"));
  CHECK_FALSE(sc->applies_to_level("kindergarten"));
}

TEST_CASE("a bad template is refused with the path of the problem", "[engine][checklist][input]") {
  struct Case {
    std::function<void(json&)> mutate;
    const char* message;
  };
  const std::vector<Case> cases = {
      {[](json& t) { t["sections"][0]["items"][0]["max"] = -1; },
       "sections[0].items[0].max: smaller than min"},
      {[](json& t) { t["sections"][0]["items"][1]["type"] = "slider"; },
       "sections[0].items[1].type: unknown item type 'slider'"},
      {[](json& t) { t["sections"][0]["items"][1].erase("options"); },
       "sections[0].items[1].options: missing"},
      {[](json& t) {
         t["sections"][0]["items"][1]["options"] = {"x", "x"};
       },
       "sections[0].items[1].options[1]: 'x' is listed twice"},
      {[](json& t) { t["sections"][0]["items"][1]["key"] = "a"; },
       "sections[0].items[1].key: 'a' is used twice"},
      {[](json& t) { t["sections"][0]["items"][0]["merge"] = "union"; },
       "sections[0].items[0].merge: a integer item cannot be merged by union"},
      {[](json& t) { t["sections"][0]["items"][0]["merge"] = "newest"; },
       "sections[0].items[0].merge: unknown merge policy 'newest'"},
      {[](json& t) {
         t["sections"][0]["items"][0]["label"] = {{"zh", "甲"}};
       },
       "sections[0].items[0].label.en: missing"},
      {[](json& t) {
         t["sections"][0]["items"][0]["rule"] = {{"warn_above", 9}, {"fail_above", 5}};
       },
       "sections[0].items[0].rule.fail_above: smaller than warn_above"},
      {[](json& t) {
         t["sections"][0]["items"][1]["rule"] = {{"fail_above", 5}};
       },
       "sections[0].items[1].rule: rules apply to integer, decimal and score items"},
      {[](json& t) { t["sections"][0]["items"][0]["colour"] = "red"; },
       "sections[0].items[0].colour: unknown key"},
      {[](json& t) { t["sections"][0]["items"][0]["key"] = "Bad Key"; },
       "sections[0].items[0].key: 'Bad Key' is not a key"},
      {[](json& t) { t["sections"][0]["items"][0]["min"] = 0.5; },
       "sections[0].items[0].min: not a whole number"},
      {[](json& t) { t["sections"][0]["items"][0]["max_count"] = 3; },
       "sections[0].items[0].max_count: only photo items have max_count"},
      {[](json& t) { t["sections"][0]["items"] = json::array(); },
       "sections[0].items: expected a non-empty list"},
      {[](json& t) { t["applies_to"] = {"university"}; },
       "applies_to[0]: unknown school level \"university\""},
      {[](json& t) { t["version"] = 0; }, "version: expected a whole number from 1"},
      {[](json& t) { t.erase("sections"); }, "sections: missing"},
  };
  for (const Case& c : cases) {
    json t = minimal();
    c.mutate(t);
    INFO(c.message);
    CHECK_THAT(error_of(t), Catch::StartsWith(c.message));
  }
  SECTION("text that is not JSON") {
    Result<Template> r = parse_template("{\"template_id\": ");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("not valid JSON"));
  }
  SECTION("text nested past the depth limit, or past the size limit") {
    // 100,000 levels of applies_to: nlohmann's parser recursed into a stack overflow (SIGSEGV).
    std::string deep = minimal().dump();
    const std::size_t at = deep.find("[\"primary\"]");
    deep.replace(at, std::string("[\"primary\"]").size(),
                 std::string(100'000, '[') + std::string(100'000, ']'));
    Result<Template> r = parse_template(deep);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
    CHECK_THAT(r.status().message(), Catch::StartsWith("template: nested deeper than 64 levels"));
    CHECK(r.status().message().size() < 100);  // names the byte, quotes none of the text
    // Brackets inside strings are not nesting.
    json t = minimal();
    t["title"]["en"] = std::string(1000, '[');
    CHECK(parse_template(t.dump()).ok());
    t["title"]["en"] = std::string(2u << 20, 'x');
    CHECK_THAT(error_of(t), Catch::Contains("at most 1048576 allowed"));
  }
  SECTION("a JSON value of the wrong shape") {
    CHECK_THAT(error_of(json::array({1, 2})), Catch::Contains("expected an object"));
    json t = minimal();
    t["sections"][0]["items"][0] = "a";
    CHECK_THAT(error_of(t), Catch::Contains("sections[0].items[0]: expected an object"));
  }
}

TEST_CASE("each item type accepts what it should and refuses the rest",
          "[engine][checklist][input]") {
  struct Case {
    const char* item;
    std::vector<const char*> valid;
    std::vector<const char*> invalid;
  };
  const std::vector<Case> cases = {
      {R"({"key": "k", "type": "yes_no"})", {"yes", "no"}, {"Yes", "true", "1", "", "y"}},
      {R"({"key": "k", "type": "integer", "min": 0, "max": 150})",
       {"0", "150", "61"},
       {"-1", "151", "6.5", "1e2", " 5", "5 ", "", "+5", "abc"}},
      {R"({"key": "k", "type": "integer"})",
       {"-40", "9223372036854775807"},
       {"9223372036854775808", "0x10"}},
      {R"({"key": "k", "type": "decimal", "min": 0, "max": 100})",
       {"0", "100", "37.5", "1e1"},
       {"-0.1", "100.01", "nan", "inf", "1,5", ""}},
      {R"({"key": "k", "type": "score", "min": 1, "max": 5})", {"1", "5"}, {"0", "6", "4.5"}},
      {R"({"key": "k", "type": "choice", "options": ["none", "c_grade", "d_grade"]})",
       {"none", "d_grade"},
       {"D_GRADE", "", "e_grade", "none,c_grade"}},
      {R"({"key": "k", "type": "multi_choice", "options": ["pe", "music", "art"]})",
       {"pe", "pe,music", "art, pe", ""},
       {"pe,,art", "dance", "pe,dance"}},
      {R"({"key": "k", "type": "text", "max_length": 5})",
       {"", "消防通道畅", "abcde"},
       {"abcdef", "消防通道畅通"}},
      {R"({"key": "k", "type": "date"})",
       {"2026-11-23", "2024-02-29"},
       {"2026-02-29", "23/11/2026", "2026-11-23T10:00"}},
      {R"({"key": "k", "type": "gps"})",
       {"38.81707,111.13139", "38.8,111.1,12", "-33.9, 151.2"},
       {"38.8", "91,0", "0,181", "a,b", "1,2,3,4", "38.8,111.1,-1"}},
      {R"({"key": "k", "type": "photo", "max_count": 2})",
       {"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
       {"not-a-sha", "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
        "1111111111111111111111111111111111111111111111111111111111111111,"
        "2222222222222222222222222222222222222222222222222222222222222222,"
        "3333333333333333333333333333333333333333333333333333333333333333"}},
  };
  for (const Case& c : cases) {
    const Item item = item_of(c.item);
    for (const char* v : c.valid) {
      INFO(c.item << " valid: " << v);
      Result<Value> r = parse_item_value(item, v);
      CHECK(r.ok());
      if (r.ok()) CHECK(check_item_value(item, r.value()).ok());
    }
    for (const char* v : c.invalid) {
      INFO(c.item << " invalid: " << v);
      Result<Value> r = parse_item_value(item, v);
      CHECK_FALSE(r.ok());
      if (!r.ok()) {
        CHECK(r.status().code() == Code::kInvalidInput);
        CHECK_THAT(r.status().message(), Catch::StartsWith("k: "));
      }
    }
  }
}

TEST_CASE("values of the wrong kind are refused for an item", "[engine][checklist][input]") {
  const Item yes_no = item_of(R"({"key": "k", "type": "yes_no"})");
  CHECK_FALSE(check_item_value(yes_no, Value::integer(1)).ok());
  const Item choice = item_of(R"({"key": "k", "type": "choice", "options": ["x", "y"]})");
  CHECK(check_item_value(choice, Value::choice({1, "y"})).ok());
  CHECK_FALSE(check_item_value(choice, Value::choice({0, "y"})).ok());  // rank does not match
  CHECK_FALSE(check_item_value(choice, Value::text("x")).ok());
  CHECK(check_item_value(choice, Value()).ok());  // unanswered
  const Item choice_max =
      item_of(R"({"key": "k", "type": "choice", "options": ["none", "c", "d"], "merge": "max"})");
  CHECK(compare(*parse_item_value(choice_max, "d"), *parse_item_value(choice_max, "c")) > 0);
}

TEST_CASE("whole numbers meet their bounds exactly, beyond what a double holds",
          "[engine][checklist][input]") {
  const Item big = item_of(
      R"({"key": "k", "type": "integer", "min": -9007199254740992, "max": 9007199254740992})");
  CHECK(check_item_value(big, Value::integer(9007199254740992)).ok());
  CHECK_THAT(check_item_value(big, Value::integer(9007199254740993)).message(),
             Catch::Contains("is outside"));
  CHECK(check_item_value(big, Value::integer(-9007199254740992)).ok());
  CHECK_FALSE(check_item_value(big, Value::integer(-9007199254740993)).ok());
  const Item wide = item_of(R"({"key": "k", "type": "integer", "min": -1e300, "max": 1e300})");
  CHECK(check_item_value(wide, Value::integer(std::numeric_limits<std::int64_t>::max())).ok());
  CHECK(check_item_value(wide, Value::integer(std::numeric_limits<std::int64_t>::min())).ok());
}
