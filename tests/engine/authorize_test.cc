// The hub's authorization as the pure function it is: a visit state made by hand, templates from
// a map, no store (engine/src/hub/authorize.h).
#include "hub/authorize.h"

#include <catch2/catch.hpp>

#include "support/test_support.h"

using namespace vs;

namespace {

const hub::Writer kInspector{"d-a", "I0011", Role::kInspector};
const hub::Writer kSupervisor{"d-s", "I0001", Role::kSupervisor};

std::shared_ptr<const Template> conditions() {
  static const std::shared_ptr<const Template> kTemplate = [] {
    Result<Template> parsed =
        parse_template(test::slurp(test::templates_dir() + "/teaching-practice.json"));
    REQUIRE(parsed.ok());
    return std::make_shared<const Template>(std::move(parsed.value()));
  }();
  return kTemplate;
}

hub::Lookups lookups() {
  hub::Lookups look;
  look.find = [](std::string_view id,
                 std::int64_t version) -> Result<std::shared_ptr<const Template>> {
    if (id == "teaching-practice" && version == 1) return conditions();
    if (id == "broken") return Status::internal("cannot read");
    return std::shared_ptr<const Template>();
  };
  look.refused_own = [](std::uint64_t seq) -> Result<bool> { return seq == 3; };
  return look;
}

Op op_of(const hub::Writer& w, std::uint64_t seq, std::string field, Policy policy, Value value,
         std::uint32_t context = 1) {
  Op o;
  o.id = OpId{w.device_id, seq};
  o.hlc = make_hlc(test::kToday, 0);
  o.record = "visit/S1/v1";
  o.field = std::move(field);
  o.policy = policy;
  o.value = std::move(value);
  o.context = context;
  return o;
}

// A visit of S1 (a junior school) started by d-a with teaching-practice v1, open in round 1.
hub::VisitState started() {
  hub::VisitState v;
  v.school = "S1";
  v.school_level = "junior";
  const hub::Lookups look = lookups();
  std::uint64_t seq = 1;
  for (auto& [field, policy, value] : std::vector<std::tuple<std::string, Policy, Value>>{
           {"school", Policy::kLww, Value::text("S1")},
           {"template", Policy::kLww, Value::text("teaching-practice")},
           {"template_version", Policy::kLww, Value::integer(1)},
           {"started_by", Policy::kLww, Value::text("I0011")},
           {"inspectors", Policy::kUnion, Value::set({"I0011"})},
           {"status", Policy::kMax, Value::integer(4)}}) {
    Status s = hub::authorize(kInspector, v, look, op_of(kInspector, seq++, field, policy, value));
    INFO(field << ": " << s.to_string());
    REQUIRE(s.ok());
  }
  return v;
}

std::string refusal(const hub::Writer& w, hub::VisitState& v, const Op& op,
                    const Op* next = nullptr) {
  const Status s = hub::authorize(w, v, lookups(), op, next);
  return s.code() == Code::kRejected ? s.message() : s.ok() ? "ok" : "error: " + s.to_string();
}

}  // namespace

TEST_CASE("a start builds the visit state its later ops are judged by", "[engine][hub][unit]") {
  hub::VisitState v = started();
  CHECK(v.starter == "d-a");
  CHECK(v.tmpl == conditions());
  CHECK(v.status == 4);
  CHECK(v.ops.has(OpId{"d-a", 6}));
  CHECK(!v.ops.has(OpId{"d-a", 7}));
  CHECK(refusal(kInspector, v,
                op_of(kInspector, 7, "a.lesson_quality", Policy::kLww, Value::integer(4))) == "ok");
}

TEST_CASE("a refused op leaves the visit state as it was", "[engine][hub][unit]") {
  hub::VisitState v = started();
  const std::string counter = "a.lessons_observed";  // 0..100
  CHECK(refusal(kInspector, v,
                op_of(kInspector, 7, counter, Policy::kCounter, Value::integer(101))) != "ok");
  CHECK(v.counter_totals.count(counter) == 0);
  CHECK(!v.ops.has(OpId{"d-a", 7}));
  CHECK(refusal(kInspector, v,
                op_of(kInspector, 8, counter, Policy::kCounter, Value::integer(100))) == "ok");
  CHECK(v.counter_totals.at(counter) == 100);
  CHECK_THAT(refusal(kInspector, v,
                     op_of(kInspector, 9, counter, Policy::kCounter, Value::integer(INT64_MAX))),
             Catch::Contains("overflows"));
}

TEST_CASE("the rules judge the writer's role and the visit's lifecycle", "[engine][hub][unit]") {
  hub::VisitState v = started();
  CHECK_THAT(
      refusal(kSupervisor, v, op_of(kSupervisor, 1, "template", Policy::kLww, Value::text("x"))),
      Catch::Contains("only an inspector starts a visit"));
  CHECK_THAT(
      refusal(kInspector, v, op_of(kInspector, 7, "reviews", Policy::kAppend, Value::text("{}"))),
      Catch::Contains("only a supervisor writes reviews"));
  const std::string review = R"({"by":"I0002","decision":"approve","comment":"","round":1})";
  CHECK_THAT(
      refusal(kSupervisor, v,
              op_of(kSupervisor, 1, "reviews", Policy::kAppend, Value::text(review), 0x80000001u)),
      Catch::Contains("must name its writer, I0001"));
  // A snapshot with its submit, then another inspector's concurrent one.
  Op snap = op_of(kInspector, 7, "submitted.1", Policy::kUnion, Value::set({"d-a#6"}));
  Op submit = op_of(kInspector, 8, "status", Policy::kMax, Value::integer(5));
  CHECK_THAT(refusal(kInspector, v, snap), Catch::Contains("only with the submit"));
  CHECK(refusal(kInspector, v, snap, &submit) == "ok");
  CHECK(refusal(kInspector, v, submit) == "ok");
  const hub::Writer co{"d-b", "I0021", Role::kInspector};
  Op co_snap = op_of(co, 1, "submitted.1", Policy::kUnion, Value::set({"d-a#6", "d-b#9"}));
  Op co_submit = op_of(co, 2, "status", Policy::kMax, Value::integer(5));
  CHECK_THAT(refusal(co, v, co_snap, &co_submit), Catch::Contains("d-b#9"));
}

TEST_CASE("a lookup's failure is an error, not a refusal", "[engine][hub][unit]") {
  hub::VisitState v;
  v.school = "S1";
  v.school_level = "junior";
  REQUIRE(refusal(kInspector, v,
                  op_of(kInspector, 1, "template", Policy::kLww, Value::text("broken"))) == "ok");
  CHECK_THAT(refusal(kInspector, v,
                     op_of(kInspector, 2, "template_version", Policy::kLww, Value::integer(1))),
             Catch::StartsWith("error: "));
  // Bases: the visit's ops, or the writer's own refused ones (seq 3, by the lookup).
  hub::VisitState w = started();
  Op based = op_of(kInspector, 7, "a.lesson_quality", Policy::kLww, Value::integer(4));
  based.base = {OpId{"d-a", 3}, OpId{"d-a", 6}};
  CHECK(refusal(kInspector, w, based) == "ok");
  based.id.seq = 8;
  based.base = {OpId{"d-a", 5}, OpId{"d-x", 1}};
  CHECK_THAT(refusal(kInspector, w, based), Catch::Contains("d-x#1"));
}
