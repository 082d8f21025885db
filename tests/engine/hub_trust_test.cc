// The hub's trust boundary, one regression test per way a device once did lasting harm
// (issue 10): forged ops pushed straight to HubStore::push, as a rooted phone could send them.
#include <catch2/catch.hpp>

#include "engine/hub_fixture.h"
#include "support/test_support.h"

using namespace vs;
using test::HubFixture;
using test::kSchool;

namespace {

// Ops a device never wrote through its own checks: seqs continue after the device's last own
// op, and nothing is written on the device afterwards.
struct Forger {
  std::string device;
  std::uint64_t seq;
  Op op(const std::string& record, const std::string& field, Policy policy, Value value,
        std::uint32_t context = 1) {
    Op o;
    o.id = OpId{device, seq++};
    o.hlc = make_hlc(test::kToday + 10'000 + o.id.seq, 0);
    o.record = record;
    o.field = field;
    o.policy = policy;
    o.value = std::move(value);
    o.context = context;
    return o;
  }
  // The ops that start a visit, as Inspection::start_visit writes them.
  std::vector<Op> start(const std::string& key, const std::string& school,
                        const std::string& inspector, const std::string& tmpl,
                        std::int64_t version) {
    return {op(key, "school", Policy::kLww, Value::text(school)),
            op(key, "template", Policy::kLww, Value::text(tmpl)),
            op(key, "template_version", Policy::kLww, Value::integer(version)),
            op(key, "started_by", Policy::kLww, Value::text(inspector)),
            op(key, "started_at", Policy::kLww, Value::text("2026-09-14T08:00:00Z")),
            op(key, "inspectors", Policy::kUnion, Value::set({inspector})),
            op(key, "status", Policy::kMax, Value::integer(4))};
  }
};

Forger forger(HubFixture::Device& d) {
  return Forger{d.record.device_id, d.in->engine().stats()->last_own_seq + 1};
}

// The reasons of a push's refusals, by seq.
std::map<std::uint64_t, std::string> reasons(const PushResult& r) {
  return {r.rejected.begin(), r.rejected.end()};
}

}  // namespace

TEST_CASE_METHOD(HubFixture, "a lost acknowledgement loses no rejection reason",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  pull(a);
  const std::string id = start(a);
  REQUIRE(push(a).ok());
  const std::string key = "visit/" + std::string(kSchool) + "/" + id;
  const std::uint64_t stored_ack = a.in->engine().counter("push.acked").value();
  Forger f = forger(a);
  std::vector<Op> ops;
  ops.reserve(7);
  for (int i = 0; i < 5; ++i)
    ops.push_back(f.op(key, "a.class_count", Policy::kLww, Value::integer(9)));
  ops.push_back(f.op(key, "a.no_such_item", Policy::kLww, Value::integer(1)));
  ops.push_back(f.op(key, "a.class_count", Policy::kLww, Value::integer(10)));
  Result<PushResult> r = hub->push(a.record.device_id, ops);
  REQUIRE(r.ok());
  REQUIRE(r->rejected.size() == 1);
  // The acknowledgement never reached the device: its hello names the count it had stored.
  Result<HelloResult> h = hub->hello(a.record.device_id, 0, ops.back().id.seq, stored_ack);
  REQUIRE(h.ok());
  CHECK(h->acked_seq == ops.back().id.seq);
  REQUIRE(h->rejected.size() == 1);
  CHECK(h->rejected[0].first == ops[5].id.seq);
  CHECK_THAT(h->rejected[0].second, Catch::Contains("no item 'no_such_item'"));
  // A device that stored the acknowledgement is owed nothing.
  CHECK(hub->hello(a.record.device_id, 0, ops.back().id.seq, ops.back().id.seq)->rejected.empty());
}

TEST_CASE_METHOD(HubFixture, "more reasons than a hello carries come back with the resent ops",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  pull(a);
  Forger f = forger(a);
  std::vector<Op> ops;
  for (std::size_t i = 0; i < kMaxHelloReasons + 5; ++i)
    ops.push_back(f.op("school/" + std::string(kSchool), "name", Policy::kLww, Value::text("x")));
  Result<PushResult> r = hub->push(a.record.device_id, ops);
  REQUIRE(r.ok());
  REQUIRE(r->rejected.size() == ops.size());
  Result<HelloResult> h = hub->hello(a.record.device_id, 0, ops.back().id.seq, 0);
  REQUIRE(h.ok());
  REQUIRE(h->rejected.size() == kMaxHelloReasons);
  CHECK(h->acked_seq == ops[kMaxHelloReasons].id.seq - 1);
  CHECK(h->acked_print == 0);
  // The device pushes again from there; the acknowledgement repeats the rest.
  Result<PushResult> again =
      hub->push(a.record.device_id, std::vector<Op>(ops.begin() + kMaxHelloReasons, ops.end()));
  REQUIRE(again.ok());
  CHECK(again->rejected.size() == 5);
  CHECK(again->acked_seq == ops.back().id.seq);
}

TEST_CASE_METHOD(HubFixture, "a visit's template and start are written once, by its starter",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  Device b = enroll("I0021");  // a co-inspector of the school
  pull(a);
  const std::string id = start(a);
  REQUIRE(push(a).ok());
  pull(b);
  const std::string key = "visit/" + std::string(kSchool) + "/" + id;
  Forger fb = forger(b);
  Result<PushResult> r = hub->push(
      b.record.device_id, {fb.op(key, "template", Policy::kLww, Value::text("campus-safety")),
                           fb.op(key, "started_by", Policy::kLww, Value::text("I0021"))});
  REQUIRE(r.ok());
  REQUIRE(r->rejected.size() == 2);
  CHECK_THAT(r->rejected[0].second, Catch::Contains("template is written once"));
  Forger fa = forger(a);
  r = hub->push(a.record.device_id,
                {fa.op(key, "template_version", Policy::kLww, Value::integer(0)),
                 fa.op(key, "a.class_count", Policy::kLww, Value::integer(9))});
  REQUIRE(r.ok());
  REQUIRE(r->rejected.size() == 1);
  CHECK_THAT(r->rejected[0].second, Catch::Contains("template_version is written once"));
  // The visit keeps its template: its answers are still judged by it, on every replica.
  CHECK(hub->inspection().visit(id)->template_id == "school-conditions");
  CHECK(hub->engine().read_field(key, "a.class_count")->has_value());
}

TEST_CASE_METHOD(HubFixture, "a start must name a published template for the school's level",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  pull(a);
  Forger f = forger(a);
  auto refused_start = [&](const std::string& tmpl, std::int64_t version,
                           const std::string& inspector = "I0011") {
    const std::string key = "visit/" + std::string(kSchool) + "/v" + std::to_string(f.seq);
    Result<PushResult> r =
        hub->push(a.record.device_id, f.start(key, kSchool, inspector, tmpl, version));
    REQUIRE(r.ok());
    std::string why;
    for (const auto& [seq, reason] : r->rejected) why += reason + "\n";
    return why;
  };
  // S00011 is a junior school; campus-safety v1 applies, a later version is not published.
  CHECK(refused_start("campus-safety", 1).empty());
  CHECK_THAT(refused_start("campus-safety", 2),
             Catch::Contains("campus-safety v2 is not published"));
  CHECK_THAT(refused_start("campus-safety", 0), Catch::Contains("template_version must be"));
  CHECK_THAT(refused_start("campus-safety", (std::int64_t{1} << 32) + 1),
             Catch::Contains("template_version must be"));
  CHECK_THAT(refused_start("no-such", 1), Catch::Contains("no-such v1 is not published"));
  CHECK_THAT(refused_start("campus-safety", 1, "I0021"),
             Catch::Contains("started_by must name the device's own inspector"));
  // A teaching point takes rural-support, not school-conditions.
  const std::string key = "visit/S00041/x1";
  Result<PushResult> r =
      hub->push(a.record.device_id, f.start(key, "S00041", "I0011", "school-conditions", 1));
  REQUIRE(r.ok());
  CHECK_THAT(reasons(r.value()).begin()->second,
             Catch::Contains("does not apply to teaching_point schools"));
}

TEST_CASE_METHOD(HubFixture, "a counter's total stays within the item's bounds",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  pull(a);
  const std::string id = start(a, "teaching-practice");
  REQUIRE(push(a).ok());
  const std::string key = "visit/" + std::string(kSchool) + "/" + id;
  Forger f = forger(a);
  const std::string field = "a.lessons_observed";  // 0..100
  Result<PushResult> r =
      hub->push(a.record.device_id, {f.op(key, field, Policy::kCounter, Value::integer(INT64_MAX)),
                                     f.op(key, field, Policy::kCounter, Value::integer(60)),
                                     f.op(key, field, Policy::kCounter, Value::integer(60)),
                                     f.op(key, field, Policy::kCounter, Value::integer(-61)),
                                     f.op(key, field, Policy::kCounter, Value::integer(40))});
  REQUIRE(r.ok());
  const auto why = reasons(r.value());
  REQUIRE(why.size() == 3);
  CHECK(why.count(f.seq - 5) == 1);  // +INT64_MAX
  CHECK(why.count(f.seq - 3) == 1);  // 120
  CHECK(why.count(f.seq - 2) == 1);  // -1
  CHECK(hub->engine().read_field(key, field)->value().value == Value::integer(100));
}

TEST_CASE_METHOD(HubFixture, "an op the engine would refuse changes nothing for the ops after it",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  pull(a);
  Forger f = forger(a);
  const std::string key = "visit/" + std::string(kSchool) + "/v1";
  std::vector<Op> ops = f.start(key, kSchool, "I0011", "school-conditions", 1);
  ops.back().hlc = 0;  // the start's status op: the engine refuses a zero stamp
  // A submit right after: judged against a start that is never stored, it would pass.
  ops.push_back(f.op(key, "status", Policy::kMax, Value::integer(5)));
  Result<PushResult> r = hub->push(a.record.device_id, ops);
  REQUIRE(r.ok());
  const auto why = reasons(r.value());
  REQUIRE(why.size() == 2);
  CHECK_THAT(why.at(ops[6].id.seq), Catch::Contains("stamp is 0"));
  CHECK_THAT(why.at(ops[7].id.seq), Catch::Contains("may only start a visit"));
  CHECK(!hub->engine().read_field(key, "status")->has_value());
}

TEST_CASE_METHOD(HubFixture, "a template the hub cannot read fails the push instead of refusing",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  pull(a);
  // A stored template this build cannot parse (written by a newer admin tool, say).
  REQUIRE(hub->engine()
              .write(Write{"template/future/000001", "body", Policy::kLww, Value::text("{\"id\":")})
              .ok());
  Forger f = forger(a);
  const std::vector<Op> ops =
      f.start("visit/" + std::string(kSchool) + "/v1", kSchool, "I0011", "future", 1);
  Result<PushResult> r = hub->push(a.record.device_id, ops);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kInternal);
  // Nothing is recorded: the device pushes the same ops again later.
  CHECK(hub->device(a.record.device_id)->acked_seq == ops.front().id.seq - 1);
  CHECK(hub->hello(a.record.device_id, 0, ops.back().id.seq, 0)->rejected.empty());
}

TEST_CASE_METHOD(HubFixture, "bases and snapshots name only ops the visit has",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  Device b = enroll("I0021");
  pull(a);
  start(a);  // seqs 1 to 7
  const std::string id = start(a);
  REQUIRE(push(a).ok());
  const std::string key = "visit/" + std::string(kSchool) + "/" + id;
  Forger f = forger(a);
  Op unknown_own = f.op(key, "a.class_count", Policy::kLww, Value::integer(9));
  unknown_own.base = {OpId{a.record.device_id, 2}};  // the device's own op, of another visit
  Op refused = f.op(key, "a.no_such_item", Policy::kLww, Value::integer(1));
  Op on_refused = f.op(key, "a.class_count", Policy::kLww, Value::integer(8));
  on_refused.base = {refused.id};  // the device's own op the hub refused: it saw it
  Op hiding = f.op(key, "submitted.1", Policy::kUnion, Value::set({b.record.device_id + "#40"}));
  Op submit = f.op(key, "status", Policy::kMax, Value::integer(5));
  Op lone = f.op(key, "submitted.1", Policy::kUnion, Value::set({a.record.device_id + "#1"}));
  Result<PushResult> r =
      hub->push(a.record.device_id, {unknown_own, refused, on_refused, hiding, submit, lone});
  REQUIRE(r.ok());
  const auto why = reasons(r.value());
  REQUIRE(why.size() == 4);
  // A snapshot comes only with its submit (which, its snapshot refused, still submits).
  CHECK(why.count(submit.id.seq) == 0);
  CHECK_THAT(why.at(lone.id.seq), Catch::Contains("written only with the submit of round 1"));
  CHECK_THAT(why.at(unknown_own.id.seq), Catch::Contains("an op this visit does not have"));
  CHECK(why.count(on_refused.id.seq) == 0);
  CHECK_THAT(why.at(hiding.id.seq), Catch::Contains(b.record.device_id + "#40"));
}

TEST_CASE_METHOD(HubFixture, "a pull never holds more set items and bases than a batch takes",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  std::vector<std::string> items;
  items.reserve(1000);
  for (int i = 0; i < 1000; ++i) items.push_back("tag-" + std::to_string(i));
  std::vector<Write> writes;
  writes.reserve(500);
  for (int i = 0; i < 500; ++i) {  // 500,000 set items in the school's scope
    writes.push_back(Write{"school/" + std::string(kSchool), "tags." + std::to_string(i),
                           Policy::kUnion, Value::set(items), 0});
  }
  REQUIRE(hub->engine().write_batch(writes).ok());
  std::size_t pulls = 0;
  std::size_t got = 0;
  for (std::string cursor; pulls < 100; ++pulls) {
    Result<PullResult> p = hub->pull(a.record.device_id, cursor, 20'000);
    REQUIRE(p.ok());
    std::size_t elements = 0;
    for (const Op& op : p->ops) elements += batch_elements(op);
    CHECK(elements <= kMaxBatchElements);
    got += elements;
    cursor = p->next_cursor;
    if (!p->more) break;
  }
  CHECK(got >= 500'000);
  CHECK(pulls >= 1);  // it took more than one pull
}
