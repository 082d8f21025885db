// The merge policies of engine/MERGE.md, one replica pair at a time, through the
// public API on real store files.
#include <catch2/catch.hpp>

#include <visitsync/engine.h>

#include "merge/field_state.h"
#include "support/test_support.h"

using namespace vs;

namespace {

// Sends every op `from` has to `to` (what a sync through the hub amounts to).
ApplyReport sync(Engine& from, Engine& to) {
  Result<LogSlice> slice = from.log_after(0, 1'000'000);
  REQUIRE(slice.ok());
  Result<ApplyReport> r = to.apply_remote(slice->ops);
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  CHECK(r->rejected.empty());
  return r.value();
}

OpId put(Engine& e, const std::string& field, Policy p, Value v,
         const std::string& record = "visit/1") {
  Result<OpId> id = e.write(Write{record, field, p, std::move(v), 0});
  INFO(id.status().to_string());
  REQUIRE(id.ok());
  return id.value();
}

FieldView field(Engine& e, const std::string& name, const std::string& record = "visit/1") {
  Result<std::optional<FieldView>> f = e.read_field(record, name);
  REQUIRE(f.ok());
  REQUIRE(f->has_value());
  return **f;
}

std::string digest(Engine& e) {
  Result<std::string> d = e.digest();
  REQUIRE(d.ok());
  return d.value();
}

struct Pair {
  test::TempDir dir;
  test::ManualClock clock_a;
  test::ManualClock clock_b;
  std::unique_ptr<Engine> a = test::open_engine(dir, "dev-a", &clock_a);
  std::unique_ptr<Engine> b = test::open_engine(dir, "dev-b", &clock_b);
  void exchange() {
    sync(*a, *b);
    sync(*b, *a);
  }
};

}  // namespace

TEST_CASE_METHOD(Pair, "a correction that saw the typo wins though its clock is a year behind",
                 "[engine][merge][lww]") {
  clock_b.set(clock_a.now_ms() - test::kYearMs);  // b's clock has been wrong all along
  put(*a, "enrolled_students", Policy::kLww, Value::integer(4120));  // the typo
  sync(*a, *b);
  const OpId fix = put(*b, "enrolled_students", Policy::kLww, Value::integer(412));
  sync(*b, *a);

  // The correction's stamp is lower, and still it wins on both replicas, unflagged.
  CHECK(hlc_millis(field(*b, "enrolled_students").versions.at(0).hlc) <
        static_cast<std::uint64_t>(clock_a.now_ms()));
  for (Engine* e : {a.get(), b.get()}) {
    FieldView f = field(*e, "enrolled_students");
    CHECK(f.value == Value::integer(412));
    CHECK_FALSE(f.conflict);
    REQUIRE(f.versions.size() == 1);
    CHECK(f.versions[0].op == fix);
  }
  CHECK(digest(*a) == digest(*b));
}

TEST_CASE_METHOD(Pair, "lww flags a conflict only when concurrent values differ",
                 "[engine][merge][lww]") {
  SECTION("different values: the highest stamp shows, flagged, both values listed") {
    put(*a, "class_count", Policy::kLww, Value::integer(9));
    clock_b.advance(5);
    put(*b, "class_count", Policy::kLww, Value::integer(13));
    exchange();
    for (Engine* e : {a.get(), b.get()}) {
      FieldView f = field(*e, "class_count");
      CHECK(f.value == Value::integer(13));
      CHECK(f.conflict);
      REQUIRE(f.versions.size() == 2);
      CHECK(f.versions[0].op.device == "dev-a");
      CHECK(f.versions[1].op.device == "dev-b");
      Result<std::vector<Conflict>> cs = e->conflicts();
      REQUIRE(cs.ok());
      REQUIRE(cs->size() == 1);
      CHECK(cs->at(0).field == "class_count");
      CHECK(cs->at(0).versions.size() == 2);
    }
  }
  SECTION("the same value written twice concurrently is not a conflict") {
    put(*a, "class_count", Policy::kLww, Value::integer(9));
    put(*b, "class_count", Policy::kLww, Value::integer(9));
    exchange();
    for (Engine* e : {a.get(), b.get()}) {
      CHECK_FALSE(field(*e, "class_count").conflict);
      CHECK(e->conflicts()->empty());
    }
  }
  SECTION("sequential writes are not a conflict") {
    put(*a, "class_count", Policy::kLww, Value::integer(9));
    sync(*a, *b);
    put(*b, "class_count", Policy::kLww, Value::integer(10));
    sync(*b, *a);
    CHECK_FALSE(field(*a, "class_count").conflict);
    CHECK(field(*a, "class_count").value == Value::integer(10));
  }
}

TEST_CASE_METHOD(Pair, "a resolving write settles the named values on every replica",
                 "[engine][merge][conflicts]") {
  const OpId va = put(*a, "overall_rating", Policy::kLww, Value::integer(3));
  const OpId vb = put(*b, "overall_rating", Policy::kLww, Value::integer(4));
  exchange();
  REQUIRE(field(*a, "overall_rating").conflict);

  SECTION("naming both values clears the flag everywhere") {
    Result<OpId> r = a->resolve(
        Write{"visit/1", "overall_rating", Policy::kLww, Value::integer(4), 0}, {va, vb});
    REQUIRE(r.ok());
    exchange();
    for (Engine* e : {a.get(), b.get()}) {
      FieldView f = field(*e, "overall_rating");
      CHECK_FALSE(f.conflict);
      CHECK(f.value == Value::integer(4));
      CHECK(e->conflicts()->empty());
    }
    CHECK(digest(*a) == digest(*b));
  }
  SECTION("a value written concurrently with the resolution keeps the field flagged") {
    Result<OpId> r = a->resolve(
        Write{"visit/1", "overall_rating", Policy::kLww, Value::integer(4), 0}, {va, vb});
    REQUIRE(r.ok());
    put(*b, "overall_rating", Policy::kLww, Value::integer(2));  // b had not seen the resolution
    exchange();
    FieldView f = field(*a, "overall_rating");
    CHECK(f.conflict);
    CHECK(f.versions.size() == 2);
    CHECK(digest(*a) == digest(*b));
  }
  SECTION("naming a value that is not current is refused and changes nothing") {
    const std::string before = digest(*a);
    Result<OpId> r =
        a->resolve(Write{"visit/1", "overall_rating", Policy::kLww, Value::integer(4), 0},
                   {va, OpId{"dev-z", 7}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
    CHECK_THAT(r.status().message(), Catch::Contains("dev-z#7"));
    CHECK(digest(*a) == before);
  }
}

TEST_CASE_METHOD(Pair, "max and min keep the largest and smallest concurrent value",
                 "[engine][merge][maxmin]") {
  put(*a, "largest_class_size", Policy::kMax, Value::integer(48));
  put(*b, "largest_class_size", Policy::kMax, Value::integer(61));
  put(*a, "heating_ok", Policy::kMin, Value::integer(4));
  put(*b, "heating_ok", Policy::kMin, Value::integer(2));
  put(*a, "dangerous_buildings", Policy::kMax, Value::choice({2, "d_grade"}));
  put(*b, "dangerous_buildings", Policy::kMax, Value::choice({1, "c_grade"}));
  put(*a, "exits_clear", Policy::kMin, Value::boolean(true));
  put(*b, "exits_clear", Policy::kMin, Value::boolean(false));
  put(*a, "last_drill_date", Policy::kMax, Value::date(*parse_date("2026-09-30")));
  put(*b, "last_drill_date", Policy::kMax, Value::date(*parse_date("2026-10-02")));
  exchange();
  for (Engine* e : {a.get(), b.get()}) {
    CHECK(field(*e, "largest_class_size").value == Value::integer(61));
    CHECK(field(*e, "heating_ok").value == Value::integer(2));
    // Choice options order as the template lists them, not alphabetically.
    CHECK(field(*e, "dangerous_buildings").value.as_choice().key == "d_grade");
    CHECK(field(*e, "exits_clear").value == Value::boolean(false));
    CHECK(format_date(field(*e, "last_drill_date").value.as_date()) == "2026-10-02");
    CHECK(e->conflicts()->empty());  // max and min never flag
  }
  SECTION("a later write that saw the maximum may lower it (a correction)") {
    put(*a, "largest_class_size", Policy::kMax, Value::integer(50));
    exchange();
    CHECK(field(*b, "largest_class_size").value == Value::integer(50));
  }
}

TEST_CASE_METHOD(Pair, "union keeps a concurrent add over a remove", "[engine][merge][union]") {
  put(*a, "issues_found", Policy::kUnion, Value::set({"water", "canteen"}));
  sync(*a, *b);
  // a removes "canteen" while b, concurrently, adds "bus_safety" and keeps "canteen".
  put(*a, "issues_found", Policy::kUnion, Value::set({"water"}));
  put(*b, "issues_found", Policy::kUnion, Value::set({"water", "canteen", "bus_safety"}));
  exchange();
  for (Engine* e : {a.get(), b.get()}) {
    CHECK(field(*e, "issues_found").value == Value::set({"bus_safety", "canteen", "water"}));
    CHECK_FALSE(field(*e, "issues_found").conflict);
  }
  SECTION("a remove that saw the add removes it") {
    put(*a, "issues_found", Policy::kUnion, Value::set({"water", "bus_safety"}));
    exchange();
    CHECK(field(*b, "issues_found").value == Value::set({"bus_safety", "water"}));
  }
  SECTION("two concurrent edits keep what either side kept") {
    put(*a, "issues_found", Policy::kUnion, Value::set({"bus_safety"}));  // removes canteen, water
    put(*b, "issues_found", Policy::kUnion,
        Value::set({"water"}));  // b removes the rest, keeps water
    exchange();
    CHECK(field(*a, "issues_found").value == Value::set({"bus_safety", "water"}));
  }
}

TEST_CASE_METHOD(Pair, "append keeps every entry ordered by stamp", "[engine][merge][append]") {
  put(*a, "inspector_notes", Policy::kAppend, Value::text("fire exit blocked"));
  clock_b.advance(10);
  put(*b, "inspector_notes", Policy::kAppend, Value::text("消防通道畅通"));
  clock_a.advance(20);
  put(*a, "inspector_notes", Policy::kAppend, Value::text("recheck next visit"));
  exchange();
  for (Engine* e : {a.get(), b.get()}) {
    FieldView f = field(*e, "inspector_notes");
    REQUIRE(f.versions.size() == 3);
    CHECK(f.versions[0].value.as_text() == "fire exit blocked");
    CHECK(f.versions[1].value.as_text() == "消防通道畅通");
    CHECK(f.versions[2].value.as_text() == "recheck next visit");
    CHECK_FALSE(f.conflict);
  }
  CHECK(digest(*a) == digest(*b));
}

TEST_CASE_METHOD(Pair, "a counter counts each increment once when batches arrive twice",
                 "[engine][merge][counter]") {
  put(*a, "lessons_observed", Policy::kCounter, Value::integer(2));
  put(*a, "lessons_observed", Policy::kCounter, Value::integer(1));
  put(*b, "lessons_observed", Policy::kCounter, Value::integer(3));
  const ApplyReport first = sync(*a, *b);
  CHECK(first.applied == 2);
  const ApplyReport again = sync(*a, *b);  // the same batch, resent after a lost ack
  CHECK(again.applied == 0);
  CHECK(again.duplicates == 2);
  sync(*b, *a);
  sync(*b, *a);
  for (Engine* e : {a.get(), b.get()}) {
    CHECK(field(*e, "lessons_observed").value == Value::integer(6));
  }
  CHECK(digest(*a) == digest(*b));
}

TEST_CASE_METHOD(Pair, "an op that arrives after the op that superseded it stays superseded",
                 "[engine][merge][frontier]") {
  // a writes v1 then corrects it to v2; b receives the correction first.
  put(*a, "guards_on_duty", Policy::kLww, Value::integer(1));
  put(*a, "guards_on_duty", Policy::kLww, Value::integer(2));
  Result<LogSlice> ops = a->log_after(0, 10);
  REQUIRE(ops.ok());
  REQUIRE(ops->ops.size() == 2);
  REQUIRE(b->apply_remote({ops->ops[1]}).ok());
  REQUIRE(b->apply_remote({ops->ops[0]}).ok());
  FieldView f = field(*b, "guards_on_duty");
  CHECK(f.value == Value::integer(2));
  CHECK(f.versions.size() == 1);
  CHECK(digest(*a) == digest(*b));
}

TEST_CASE_METHOD(Pair, "a field keeps the policy of its first op", "[engine][merge][input]") {
  put(*a, "boarders", Policy::kLww, Value::integer(10));
  SECTION("a local write with another policy is refused") {
    Result<OpId> r = a->write(Write{"visit/1", "boarders", Policy::kMax, Value::integer(11), 0});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
    CHECK_THAT(r.status().message(), Catch::Contains("merged by lww, not max"));
    CHECK(field(*a, "boarders").value == Value::integer(10));
  }
  SECTION("a remote op with another policy is rejected with its reason, the rest applied") {
    put(*b, "boarders", Policy::kMax, Value::integer(12));
    put(*b, "dropouts_this_year", Policy::kMax, Value::integer(1));
    Result<LogSlice> ops = b->log_after(0, 10);
    REQUIRE(ops.ok());
    Result<ApplyReport> r = a->apply_remote(ops->ops);
    REQUIRE(r.ok());
    CHECK(r->applied == 1);
    REQUIRE(r->rejected.size() == 1);
    CHECK(r->rejected[0].index == 0);
    CHECK_THAT(r->rejected[0].reason.message(), Catch::Contains("dev-b#1"));
    CHECK_THAT(r->rejected[0].reason.message(), Catch::Contains("merged by lww, not max"));
    CHECK(field(*a, "dropouts_this_year").value == Value::integer(1));
    CHECK(field(*a, "boarders").value == Value::integer(10));
  }
}

TEST_CASE("a counter's state keeps its increments, and reads the sum-only form of older stores",
          "[engine][merge][counter]") {
  merge::FieldState st;
  st.policy = Policy::kCounter;
  auto inc = [](const char* device, std::uint64_t seq, std::int64_t by) {
    Op op;
    op.id = OpId{device, seq};
    op.hlc = make_hlc(1000 + seq, 0);
    op.record = "visit/S1/v";
    op.field = "a.lessons_observed";
    op.policy = Policy::kCounter;
    op.value = Value::integer(by);
    return op;
  };
  merge::merge_op(st, inc("d-b", 1, 2), [](const OpId&) { return false; });
  merge::merge_op(st, inc("d-a", 1, 3), [](const OpId&) { return false; });
  merge::merge_op(st, inc("d-a", 2, -1), [](const OpId&) { return false; });
  Result<merge::FieldState> back = merge::decode_state(merge::encode_state(st));
  REQUIRE(back.ok());
  CHECK(merge::merged_value(back.value()) == Value::integer(4));
  const FieldView view = merge::view_of(back.value(), "a.lessons_observed");
  REQUIRE(view.versions.size() == 3);  // by stamp
  // By stamp: (hlc, device, seq).
  CHECK(view.versions[0].op == OpId{"d-a", 1});
  CHECK(view.versions[1].op == OpId{"d-b", 1});
  CHECK(view.versions[2].value == Value::integer(-1));
  CHECK_FALSE(view.conflict);

  // Format 1, counter, sum 7: what stores written before kept.
  const std::string old_form = std::string("\x01\x05\x07", 3);
  Result<merge::FieldState> old = merge::decode_state(old_form);
  REQUIRE(old.ok());
  CHECK(merge::merged_value(old.value()) == Value::integer(7));
  CHECK(old->entries.empty());
  // Format 2 is a counter's alone.
  CHECK_FALSE(merge::decode_state(std::string("\x02\x00\x00", 3)).ok());
}
