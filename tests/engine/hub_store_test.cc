// The hub's side of sync without a network: enrollment, hello, authorized pushes, scoped and
// resumable pulls, back-fill of a grown scope.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include <visitsync/hub_store.h>
#include <visitsync/inspection.h>

#include "engine/hub_fixture.h"
#include "support/test_support.h"

using namespace vs;

using test::HubFixture;
using test::kSchool;
using test::TwoInspectors;

TEST_CASE("records belong to the scope their key tells", "[engine][hub]") {
  CHECK(scope_of_record("template/school-conditions/000001") == "g");
  CHECK(scope_of_record("inspector/I0011") == "i:I0011");
  CHECK(scope_of_record("school/S00011") == "s:S00011");
  CHECK(scope_of_record("visit/S00011/293eed18-1b10-41e5-ba8a-30aa80bc680b") == "s:S00011");
  CHECK(scope_of_record("assignment/I0011/S00011") == "i:I0011");
  CHECK(scope_of_record("attachment/abc") == "h");
}

TEST_CASE_METHOD(HubFixture, "devices are enrolled, greeted and revoked", "[engine][hub]") {
  CHECK(hub->enroll_device("I9999").status().code() == Code::kNotFound);
  Device d = enroll("I0011");
  CHECK_THAT(d.record.device_id, Catch::StartsWith("d-I0011-"));
  Result<HelloResult> hello =
      hub->hello(d.record.device_id, make_hlc(test::kToday + 90'000, 0), 0, 0);
  REQUIRE(hello.ok());
  CHECK(hello->skew_ms == 90'000);
  CHECK(hello->device.role == Role::kInspector);
  CHECK(hub->hello("d-nobody", 0, 0, 0).status().code() == Code::kRejected);
  REQUIRE(hub->revoke_device(d.record.device_id).ok());
  Result<HelloResult> refused = hub->hello(d.record.device_id, 0, 0, 0);
  CHECK(refused.status().code() == Code::kRejected);
  CHECK_THAT(refused.status().message(), Catch::Contains("revoked"));
  CHECK(hub->push(d.record.device_id, {}).status().code() == Code::kRejected);
  CHECK(hub->pull(d.record.device_id, "", 10).status().code() == Code::kRejected);
  CHECK(hub->devices()->size() == 1);
}

TEST_CASE_METHOD(HubFixture, "a device pulls its scope, resumably, and pushes its visits",
                 "[engine][hub]") {
  Device a = enroll("I0011");
  const std::size_t pulled = pull(a);
  CHECK(pulled > 0);
  // Templates and inspectors, its own assignments, and only its schools.
  const std::set<std::string> scopes = scopes_on(a.in->engine());
  CHECK(scopes.count("g") == 1);
  CHECK(scopes.count("i:I0011") == 1);
  CHECK(scopes.count("s:S00011") == 1);
  CHECK(scopes.count("s:S00012") == 0);
  CHECK(scopes.count("i:I0021") == 0);
  CHECK(a.in->templates()->size() == 4);

  SECTION("pulling in small batches gives the same state") {
    Device b = enroll("I0011");
    CHECK(pull(b, 7) == pulled);
    CHECK(b.in->engine().digest().value() == a.in->engine().digest().value());
  }
  SECTION(
      "pushed visits are merged and acknowledged; others see them, the author does not get them "
      "back") {
    Device early = enroll("I0021");  // has pulled before the push
    pull(early);
    const std::string id = start(a);
    REQUIRE(a.in->set_answer(id, "largest_class_size", "61").ok());
    const std::string id2 = start(a);
    Result<PushResult> r = push(a);
    REQUIRE(r.ok());
    CHECK(r->rejected.empty());
    CHECK(r->acked_seq == a.in->engine().stats()->last_own_seq);
    CHECK(hub->inspection().visit(id)->findings.size() == 1);
    CHECK(pull(a) == 0);

    // The hub's log holds each visit's ops as one run. Asked for one op more than the first
    // visit's run, a pull returns that run alone: the second would not fit. The next brings it.
    Result<std::vector<Op>> sent = a.in->engine().ops_after(0, 100'000);
    REQUIRE(sent.ok());
    const std::string key = "visit/" + std::string(kSchool) + "/" + id;
    const auto run = static_cast<std::size_t>(
        std::count_if(sent->begin(), sent->end(), [&](const Op& op) { return op.record == key; }));
    Result<PullResult> first = hub->pull(early.record.device_id, early.cursor, run + 1);
    REQUIRE(first.ok());
    CHECK(first->ops.size() == run);
    CHECK(first->more);
    REQUIRE(early.in->engine().apply_remote(first->ops).ok());
    early.cursor = first->next_cursor;
    CHECK(pull(early) == sent->size() - run);
    CHECK(early.in->visit(id).ok());
    CHECK(early.in->visit(id2).ok());
    Device co = enroll("I0021");
    const std::size_t co_pulled = pull(co);
    CHECK(co.in->visit(id).ok());
    // The visit's ops are one run in the hub's log: a device that pulls two ops at a time gets
    // the run whole, and every op once.
    Device co2 = enroll("I0021");
    largest_pull = 0;
    CHECK(pull(co2, 2) == co_pulled);
    CHECK(largest_pull > 2);
    CHECK(co2.in->engine().digest().value() == co.in->engine().digest().value());
    Device other = enroll("I0012");  // not assigned to the school
    pull(other);
    CHECK(other.in->visit(id).status().code() == Code::kNotFound);

    // A resend after a lost ack changes nothing and acknowledges the same seq.
    Result<std::vector<Op>> all = a.in->engine().ops_after(0, 1000);
    const std::string before = hub->engine().digest().value();
    Result<PushResult> again = hub->push(a.record.device_id, all.value());
    REQUIRE(again.ok());
    CHECK(again->applied == 0);
    CHECK(again->acked_seq == r->acked_seq);
    CHECK(hub->engine().digest().value() == before);
  }
}

TEST_CASE_METHOD(HubFixture,
                 "ops outside a device's rights are rejected with a reason and kept on the device",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  pull(a);
  const std::string id = start(a);
  const std::string key = "visit/" + std::string(kSchool) + "/" + id;
  Engine& e = a.in->engine();
  // Writes the inspection layer would refuse, made directly on the device's engine.
  REQUIRE(e.write(Write{"visit/S00012/5e0bd5a4-0000-4000-8000-000000000001", "school", Policy::kLww,
                        Value::text("S00012"), 1})
              .ok());
  REQUIRE(e.write(Write{"school/S00011", "students", Policy::kLww, Value::integer(1), 0}).ok());
  REQUIRE(e.write(Write{key, "a.largest_class_size", Policy::kMax, Value::integer(900), 1}).ok());
  REQUIRE(e.write(Write{key, "a.no_such_item", Policy::kLww, Value::integer(1), 1}).ok());
  REQUIRE(a.in->set_answer(id, "class_count", "9").ok());
  REQUIRE(e.write(Write{key, "status", Policy::kMax, Value::integer(4 + 2), 1}).ok());
  const std::uint64_t last = e.stats()->last_own_seq;

  Result<PushResult> r = push(a);
  REQUIRE(r.ok());
  CHECK(r->acked_seq == last);
  REQUIRE(r->rejected.size() == 5);
  CHECK_THAT(r->rejected[0].second, Catch::Contains("may not write visits of school S00012"));
  CHECK_THAT(r->rejected[1].second, Catch::Contains("devices may write visits only"));
  CHECK_THAT(r->rejected[2].second, Catch::Contains("900 is outside 0..150"));
  CHECK_THAT(r->rejected[3].second, Catch::Contains("has no item 'no_such_item'"));
  CHECK_THAT(r->rejected[4].second,
             Catch::Contains("may only start a visit or submit its current round"));
  Result<VisitView> on_hub = hub->inspection().visit(id);
  REQUIRE(on_hub.ok());
  CHECK(on_hub->status.phase == Phase::kDraft);
  CHECK(hub->engine().read_field(key, "a.class_count")->value().value == Value::integer(9));
  CHECK(hub->inspection().school("S00011")->students != 1);
  // The device still has them all.
  CHECK(e.read_field(key, "a.largest_class_size")->value().value == Value::integer(900));

  SECTION("a resend gets the same reasons again") {
    Result<std::vector<Op>> all = e.ops_after(0, 1000);
    Result<PushResult> again = hub->push(a.record.device_id, all.value());
    REQUIRE(again.ok());
    CHECK(again->rejected.size() == 5);
  }
  SECTION("a resend of an earlier part is acknowledged up to its own end") {
    // A new session may resend what its replaced session had pushed without seeing the acks.
    Result<std::vector<Op>> first = e.ops_after(0, 3);
    REQUIRE(first.ok());
    Result<PushResult> again = hub->push(a.record.device_id, first.value());
    REQUIRE(again.ok());
    CHECK(again->acked_seq == 3);
    CHECK(again->applied == 0);
    CHECK(hub->device(a.record.device_id)->acked_seq == last);  // the hub's count stays
  }
  SECTION("a batch that skips a seq is a protocol error, and changes nothing") {
    REQUIRE(e.write(Write{key, "a.class_count", Policy::kLww, Value::integer(10), 1}).ok());
    Result<std::vector<Op>> ops = e.ops_after(last, 10);
    REQUIRE(ops.ok());
    REQUIRE_FALSE(ops->empty());
    std::vector<Op> gap = ops.value();
    gap.front().id.seq += 5;
    Result<PushResult> bad = hub->push(a.record.device_id, gap);
    CHECK(bad.status().code() == Code::kInvalidInput);
    CHECK_THAT(bad.status().message(), Catch::Contains("was expected"));
    CHECK(hub->device(a.record.device_id)->acked_seq == last);
  }
}

TEST_CASE_METHOD(HubFixture, "a device whose store is older than the hub's copy is refused",
                 "[engine][hub]") {
  Device a = enroll("I0011");
  pull(a);
  const std::string id = start(a);
  REQUIRE(push(a).ok());
  const std::uint64_t last = a.in->engine().stats()->last_own_seq;
  CHECK(hub->hello(a.record.device_id, 0, last, 0).ok());
  Result<HelloResult> old = hub->hello(a.record.device_id, 0, last - 3, 0);
  CHECK(old.status().code() == Code::kRejected);
  CHECK_THAT(old.status().message(), Catch::Contains("older than the hub's copy"));
}

TEST_CASE_METHOD(HubFixture, "a scope that grows is back-filled", "[engine][hub]") {
  Device a = enroll("I0011");
  Device b = enroll("I0012");  // another county's inspector records a visit at S00012
  pull(a);
  pull(b);
  const std::string id = start(b, "school-conditions", "S00012");
  REQUIRE(push(b).ok());
  pull(a);
  CHECK(a.in->visit(id).status().code() == Code::kNotFound);
  // I0011 is assigned to S00012 too: the next pull brings the school and its past visits.
  REQUIRE(hub->inspection()
              .import_reference(ReferenceKind::kAssignments,
                                "inspector_id,school_id,from,until\nI0011,S00012,2026-09-01,\n")
              .ok());
  pull(a, 3);
  CHECK(a.in->visit(id).ok());
  CHECK(a.in->school("S00012").ok());
  CHECK(a.in->visit(id)->template_id == "school-conditions");
}

TEST_CASE_METHOD(HubFixture,
                 "a cursor stays short, and a digest the hub lost only costs a back-fill",
                 "[engine][hub]") {
  Device a = enroll("I0011");
  const std::size_t pulled = pull(a);
  CHECK(a.cursor.size() < 64);  // 6 schools in scope, a digest on the wire
  const std::string before = a.in->engine().digest().value();
  Result<PullResult> p =
      hub->pull(a.record.device_id,
                "p=" + a.cursor.substr(2, a.cursor.find(';') - 2) + ";s=0123456789abcdef", 100000);
  REQUIRE(p.ok());
  CHECK(p->ops.size() == pulled);  // everything in scope again
  REQUIRE(a.in->engine().apply_remote(p->ops).ok());
  CHECK(a.in->engine().digest().value() == before);  // and nothing new: duplicates only
}

TEST_CASE_METHOD(HubFixture, "a malformed cursor is refused", "[engine][hub][input]") {
  Device a = enroll("I0011");
  for (const char* bad :
       {"garbage", "p=x;s=-", "s=-", "p=5;b=9;n=-", "p=1;s=g,s:S1", "p=1;s=-;k=x"}) {
    INFO(bad);
    CHECK(hub->pull(a.record.device_id, bad, 10).status().code() == Code::kInvalidInput);
  }
}

TEST_CASE_METHOD(HubFixture, "a device cannot forge its way past the rules",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  pull(a);
  const std::string id = start(a);
  const std::string key = "visit/" + std::string(kSchool) + "/" + id;
  REQUIRE(push(a).ok());
  Engine& e = a.in->engine();
  auto rejected_for = [&](Write w) -> std::string {
    REQUIRE(e.write(w).ok());
    Result<PushResult> r = push(a);
    REQUIRE(r.ok());
    REQUIRE(r->rejected.size() == 1);
    return r->rejected[0].second;
  };
  SECTION("a visit field with another policy than the hub pins") {
    CHECK_THAT(rejected_for(Write{key, "submitted.1", Policy::kCounter, Value::integer(1), 1}),
               Catch::Contains("submitted.1 is merged by union, not counter"));
  }
  SECTION("a status jump to a later round, or an absurd status") {
    CHECK_THAT(rejected_for(Write{key, "status", Policy::kMax, Value::integer(4 * 7 + 1), 1}),
               Catch::Contains("submit its current round"));
    CHECK_THAT(
        rejected_for(Write{key, "status", Policy::kMax, Value::integer(std::int64_t{1} << 42), 1}),
        Catch::Contains("is not a visit status"));
  }
  SECTION("a supervisor's mark in an inspector's op, or a round ahead of the visit's") {
    CHECK_THAT(
        rejected_for(Write{key, "a.class_count", Policy::kLww, Value::integer(9), 0x80000001u}),
        Catch::Contains("supervisor's mark"));
    CHECK_THAT(rejected_for(Write{key, "a.class_count", Policy::kLww, Value::integer(9), 5}),
               Catch::Contains("written in round 5"));
  }
  SECTION("a base naming an op the visit does not have") {
    Op forged;
    forged.id = OpId{a.record.device_id, e.stats()->last_own_seq + 1};
    forged.hlc = make_hlc(test::kToday + 5000, 0);
    forged.record = key;
    forged.field = "a.class_count";
    forged.value = Value::integer(9);
    forged.context = 1;
    forged.base = {OpId{"d-nobody", 77}};
    Result<PushResult> r = hub->push(a.record.device_id, {forged});
    REQUIRE(r.ok());
    REQUIRE(r->rejected.size() == 1);
    CHECK_THAT(r->rejected[0].second, Catch::Contains("d-nobody#77"));
  }
  SECTION("a visit started in another inspector's name, or naming a stranger as its inspector") {
    CHECK_THAT(rejected_for(Write{key, "started_by", Policy::kLww, Value::text("I0021"), 1}),
               Catch::Contains("started_by is written once, when the visit is started"));
    CHECK_THAT(
        rejected_for(Write{key, "inspectors", Policy::kUnion, Value::set({"I0011", "I0021"}), 1}),
        Catch::Contains("inspectors names I0021, who has not worked on this visit"));
    // The device's engine refuses a text for a union field; a forged op reaches the hub.
    Op forged;
    forged.id = OpId{a.record.device_id, e.stats()->last_own_seq + 1};
    forged.hlc = make_hlc(test::kToday + 5000, 0);
    forged.record = key;
    forged.field = "inspectors";
    forged.policy = Policy::kUnion;
    forged.value = Value::text("I0011");
    forged.context = 1;
    Result<PushResult> r = hub->push(a.record.device_id, {forged});
    REQUIRE(r.ok());
    REQUIRE(r->rejected.size() == 1);
    CHECK_THAT(r->rejected[0].second, Catch::Contains("a union field holds a set, got text"));
  }
  SECTION("an inspector accepting changes made after a submission") {
    CHECK_THAT(rejected_for(Write{key, "accepted.1", Policy::kUnion, Value::set({"d-x#1"}), 1}),
               Catch::Contains("only a supervisor accepts"));
  }
  SECTION("a supervisor's review that is not a review") {
    Device sup = enroll("I0001");
    pull(sup);
    REQUIRE(sup.in->engine()
                .write(Write{
                    key, "reviews", Policy::kAppend,
                    Value::text(R"({"by":"I0001","decision":"approve","comment":"","round":"1"})"),
                    0x80000001u})
                .ok());
    Result<PushResult> r = push(sup);
    REQUIRE(r.ok());
    REQUIRE(r->rejected.size() == 1);
    CHECK_THAT(r->rejected[0].second, Catch::Contains("a review must be JSON"));
  }
  SECTION("a visit key without its three parts") {
    CHECK_THAT(rejected_for(Write{"visit/" + std::string(kSchool), "a.class_count", Policy::kLww,
                                  Value::integer(9), 1}),
               Catch::Contains("visit/<school>/<id>"));
  }
  SECTION("after an approval, an inspector's status cannot reopen the visit") {
    Device sup = enroll("I0001");
    pull(sup);
    REQUIRE(a.in->set_answer(id, "dangerous_buildings", "none").ok());
    for (const auto& [item, value] :
         std::vector<std::pair<const char*, const char*>>{{"sports_ground_surfaced", "yes"},
                                                          {"enrolled_students", "412"},
                                                          {"class_count", "9"},
                                                          {"largest_class_size", "48"},
                                                          {"canteen_licensed", "yes"},
                                                          {"overall_rating", "4"}}) {
      REQUIRE(a.in->set_answer(id, item, value).ok());
    }
    REQUIRE(a.in->submit(id).ok());
    REQUIRE(push(a).ok());
    pull(sup);
    REQUIRE(sup.in->review(id, "approve", "").ok());
    REQUIRE(push(sup).ok());
    pull(a);
    // The inspector's device writes a lower status over the approval it saw.
    CHECK_THAT(rejected_for(Write{key, "status", Policy::kMax, Value::integer(4), 1}),
               Catch::Contains("it is approved"));
    CHECK(hub->inspection().visit(id)->status.phase == Phase::kApproved);
  }
}

TEST_CASE_METHOD(HubFixture,
                 "a fill cursor kept past an unassignment reads nothing of the lost school",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  Device b = enroll("I0021");
  pull(b);
  const std::string id = start(b);
  REQUIRE(push(b).ok());
  // a's first pull stops early, in the middle of its fill.
  Result<PullResult> first = hub->pull(a.record.device_id, "", 5);
  REQUIRE(first.ok());
  REQUIRE(first->next_cursor.find(";f=") != std::string::npos);
  REQUIRE(hub->inspection()
              .import_reference(
                  ReferenceKind::kAssignments,
                  "inspector_id,school_id,from,until\nI0011,S00011,2026-09-01,2026-11-01\n")
              .ok());
  a.cursor = first->next_cursor;
  pull(a);
  CHECK(a.in->visit(id).status().code() == Code::kNotFound);
  CHECK_FALSE(a.in->school(kSchool).ok());
}

TEST_CASE_METHOD(TwoInspectors, "an inspector's settling of a co-inspector's conflict is accepted",
                 "[engine][hub]") {
  const std::string id = start(a);
  REQUIRE(push(a).ok());
  pull(b);
  REQUIRE(a.in->set_answer(id, "class_count", "10").ok());
  REQUIRE(b.in->set_answer(id, "class_count", "11").ok());
  REQUIRE(push(a).ok());
  REQUIRE(push(b).ok());
  pull(a);
  pull(b);
  REQUIRE(a.in->visit(id)->flags.size() == 1);
  REQUIRE(a.in->resolve(id, "class_count", "11").ok());
  Result<PushResult> r = push(a);
  REQUIRE(r.ok());
  CHECK(r->rejected.empty());
  pull(b);
  CHECK(b.in->visit(id)->flags.empty());
  // A later edit builds on the resolution: the hub has it.
  REQUIRE(b.in->set_answer(id, "class_count", "12").ok());
  r = push(b);
  REQUIRE(r.ok());
  CHECK(r->rejected.empty());
  CHECK(hub->inspection().visit(id)->flags.empty());
}

TEST_CASE_METHOD(HubFixture, "a photo answer syncs without a rejected op", "[engine][hub]") {
  Device a = enroll("I0011");
  pull(a);
  const std::string id = start(a);
  const std::string photo = dir.file("wall.jpg");
  {
    std::ofstream f(photo, std::ios::binary);
    f << std::string("\xFF\xD8\xFF\xE0", 4) << "a cracked wall";
  }
  Result<std::string> sha = a.in->add_attachment(photo);
  REQUIRE(sha.ok());
  CHECK(std::ifstream(dir.file(a.record.device_id) + "/attachments/" + sha.value()).good());
  REQUIRE(a.in->set_answer(id, "buildings_photo", sha.value()).ok());
  Result<PushResult> r = push(a);
  REQUIRE(r.ok());
  CHECK(r->rejected.empty());
  Result<VisitView> v = hub->inspection().visit(id);
  REQUIRE(v.ok());
  bool found = false;
  for (const Answer& ans : v->answers) {
    if (ans.item->key == "buildings_photo") found = ans.value == Value::set({sha.value()});
  }
  CHECK(found);
}

namespace {

// TwoInspectors, and a copy of the hub made then (hub-copy).
struct CopiedHub : TwoInspectors {
  CopiedHub() { copy_hub(dir.file("hub-copy")); }
  // a starts a visit and counts 9 classes; the hub and then b receive it. Returns its id.
  std::string visit_of_a() {
    const std::string id = start(a);
    REQUIRE(a.in->set_answer(id, "class_count", "9").ok());
    REQUIRE(push(a).ok());
    pull(b);
    REQUIRE(b.in->visit(id).ok());
    return id;
  }
};

}  // namespace

TEST_CASE_METHOD(CopiedHub,
                 "cursors made before a hub was restored from an older copy start over and skip "
                 "nothing",
                 "[engine][hub]") {
  // After the copy: a's visit reaches the hub and b.
  const std::string a_visit = visit_of_a();

  // The hub is restored from the copy: a's visit is gone from it, and its log positions are
  // taken by a visit from a new device before a pushes its own again.
  restore_hub(dir.file("hub-copy"));
  Device c = enroll("I0021");
  pull(c);
  const std::string c_visit = start(c, "campus-safety");
  for (const char* n : {"1", "2", "3", "4"}) {
    REQUIRE(c.in->set_answer(c_visit, "extinguishers_total", n).ok());
  }
  REQUIRE(push(c).ok());
  greet(a);
  REQUIRE(push(a).ok());

  // b's cursor names a position that now holds another op: b starts over and misses nothing.
  pull(b);
  pull(c);
  CHECK(b.in->visit(c_visit).ok());
  CHECK(c.in->visit(a_visit).ok());
  CHECK(b.in->engine().digest().value() == c.in->engine().digest().value());
}

TEST_CASE_METHOD(CopiedHub,
                 "a cursor at a run that a restored hub holds longer, from the same first op, "
                 "starts over",
                 "[engine][hub]") {
  // Two pushes of one visit: two runs. b's cursor ends at the first.
  const std::string visit = visit_of_a();
  REQUIRE(a.in->set_answer(visit, "largest_class_size", "61").ok());
  REQUIRE(push(a).ok());
  // Restored, the hub gets both in one push: one run at b's position, with the same first op.
  restore_hub(dir.file("hub-copy"));
  greet(a);
  REQUIRE(push(a).ok());
  pull(b);
  Result<std::optional<FieldView>> answer = b.in->engine().read_field(
      "visit/" + std::string(kSchool) + "/" + visit, "a.largest_class_size");
  REQUIRE(answer.ok());
  CHECK(answer.value().has_value());
  Device c = enroll("I0021");  // the same scope, pulled from the start
  pull(c);
  CHECK(b.in->engine().digest().value() == c.in->engine().digest().value());
}

TEST_CASE_METHOD(TwoInspectors, "a pull stays within its byte budget when runs are long",
                 "[engine][hub]") {
  const std::string visit = start(a);
  std::string text;
  while (text.size() < 5900) text += "教室屋顶漏雨，";  // 2,000 characters at most
  for (int i = 0; i < 720; ++i) {
    REQUIRE(a.in->add_note(visit, "inspector_notes", std::to_string(i) + text).ok());
  }
  REQUIRE(push(a).ok());
  std::vector<std::size_t> sizes;
  for (int round = 0; round < 100; ++round) {
    Result<PullResult> p = hub->pull(b.record.device_id, b.cursor, 20'000);
    REQUIRE(p.ok());
    std::size_t bytes = 0;
    for (const Op& op : p->ops) {
      if (op.value.kind() == Value::Kind::kText) bytes += op.value.as_text().size();
    }
    sizes.push_back(bytes);
    REQUIRE(b.in->engine().apply_remote(p->ops).ok());
    b.cursor = p->next_cursor;
    if (!p->more) break;
  }
  INFO("text bytes of each response");
  CAPTURE(sizes);
  CHECK(sizes.size() >= 2);
  CHECK(*std::max_element(sizes.begin(), sizes.end()) <= (std::size_t{4} << 20));
  Result<std::optional<FieldView>> notes =
      b.in->engine().read_field("visit/" + std::string(kSchool) + "/" + visit, "a.inspector_notes");
  REQUIRE(notes.ok());
  REQUIRE(notes.value().has_value());
  CHECK(notes.value()->versions.size() == 720);
}

// A date the store's codec cannot hold, pushed by a forged device, once made the visit's log row
// unreadable: every pull of the school failed at it for good. Now the op is refused with its
// reason and nothing of it is stored.
TEST_CASE_METHOD(HubFixture, "a pushed date outside the value range is refused and stores nothing",
                 "[engine][hub][input]") {
  Device a = enroll("I0011");
  pull(a);
  const std::string id = start(a, "campus-safety");
  REQUIRE(push(a).ok());
  Result<std::vector<Op>> mine = a.in->engine().ops_after(0, 100'000);
  REQUIRE(mine.ok());
  Op forged = mine->back();  // an op of the new visit
  forged.id.seq = a.in->engine().stats()->last_own_seq + 1;
  forged.field = "a.last_drill_date";
  forged.policy = Policy::kMax;
  forged.value = Value::date(Date{3'000'000});
  forged.base.clear();
  Result<PushResult> r = hub->push(a.record.device_id, {forged});
  REQUIRE(r.ok());
  CHECK(r->acked_seq == forged.id.seq);
  REQUIRE(r->rejected.size() == 1);
  CHECK_THAT(r->rejected[0].second, Catch::Contains("outside 0001-01-01..9999-12-31"));

  // The school's visits still pull, read and export everywhere.
  CHECK(hub->engine().digest().ok());
  CHECK(hub->inspection().export_visits(ExportFormat::kJsonl, "").ok());
  Device co = enroll("I0021");
  CHECK(pull(co) > 0);
  REQUIRE(co.in->visit(id).ok());
  CHECK(!hub->engine().read_field(forged.record, "a.last_drill_date")->has_value());
}
