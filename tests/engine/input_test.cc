// Bad input through the engine's API: a clear error each, and nothing else lost.
#include <catch2/catch.hpp>

#include <visitsync/engine.h>

#include "support/test_support.h"

using namespace vs;

namespace {

struct Replica {
  test::TempDir dir;
  test::ManualClock clock;
  std::unique_ptr<Engine> e = test::open_engine(dir, "dev-a", &clock);

  std::string digest() {
    Result<std::string> d = e->digest();
    REQUIRE(d.ok());
    return d.value();
  }
};

Op good_op(std::uint64_t seq, const std::string& field, std::int64_t v) {
  Op op;
  op.id = OpId{"dev-remote", seq};
  op.hlc = make_hlc(1'795'000'000'000 + seq, 0);
  op.record = "visit/S00001/v1";
  op.field = field;
  op.value = Value::integer(v);
  return op;
}

}  // namespace

TEST_CASE_METHOD(Replica, "a write of the wrong type for its policy is refused, nothing stored",
                 "[engine][input]") {
  REQUIRE(e->write(Write{"visit/1", "lessons", Policy::kCounter, Value::integer(1), 0}).ok());
  const std::string before = digest();
  struct Case {
    Write w;
    const char* message;
  };
  const Case cases[] = {
      {{"visit/1", "lessons", Policy::kCounter, Value::text("two"), 0}, "must be an integer"},
      {{"visit/1", "issues", Policy::kUnion, Value::integer(3), 0}, "holds a set"},
      {{"visit/1", "notes", Policy::kAppend, Value::text("\xc3\x28"), 0}, "not UTF-8"},
      {{"", "notes", Policy::kAppend, Value::text("x"), 0}, "record is empty"},
      {{"visit/1", std::string(100, 'f'), Policy::kLww, Value::integer(1), 0},
       "field is 100 bytes"},
      {{"visit/1", "lessons", Policy::kLww, Value::integer(1), 0}, "merged by counter, not lww"},
  };
  for (const Case& c : cases) {
    Result<OpId> r = e->write(c.w);
    INFO(c.message);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
    CHECK_THAT(r.status().message(), Catch::Contains(c.message));
  }
  CHECK(digest() == before);
  Result<EngineStats> st = e->stats();
  REQUIRE(st.ok());
  CHECK(st->last_own_seq == 1);  // no seq was used up by a refused write
}

TEST_CASE_METHOD(Replica, "a batch with one failing write stores none of it", "[engine][input]") {
  const std::string before = digest();
  Result<std::vector<OpId>> r = e->write_batch({
      Write{"visit/1", "a", Policy::kLww, Value::integer(1), 0},
      Write{"visit/1", "b", Policy::kCounter, Value::decimal(1.5), 0},
  });
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("write 1"));
  CHECK(digest() == before);
  REQUIRE(e->write(Write{"visit/1", "a", Policy::kLww, Value::integer(2), 0}).ok());
  CHECK(e->ops_after(0, 10)->at(0).id.seq == 1);  // seqs continue without a gap
}

TEST_CASE_METHOD(Replica, "malformed ops in a received batch are listed and the good ones applied",
                 "[engine][input]") {
  std::vector<Op> batch;
  batch.push_back(good_op(1, "class_count", 9));
  Op zero_seq = good_op(2, "class_count", 10);
  zero_seq.id.seq = 0;
  batch.push_back(zero_seq);
  Op bad_counter = good_op(3, "lessons", 1);
  bad_counter.policy = Policy::kCounter;
  bad_counter.value = Value::text("x");
  batch.push_back(bad_counter);
  Op bad_policy = good_op(4, "class_count", 1);
  bad_policy.policy = static_cast<Policy>(42);
  batch.push_back(bad_policy);
  batch.push_back(good_op(5, "enrolled_students", 412));

  Result<ApplyReport> r = e->apply_remote(batch);
  REQUIRE(r.ok());
  CHECK(r->applied == 2);
  REQUIRE(r->rejected.size() == 3);
  CHECK(r->rejected[0].index == 1);
  CHECK_THAT(r->rejected[0].reason.message(), Catch::Contains("seq is 0"));
  CHECK(r->rejected[1].index == 2);
  CHECK_THAT(r->rejected[1].reason.message(),
             Catch::Contains("dev-remote#3") && Catch::Contains("integer"));
  CHECK_THAT(r->rejected[2].reason.message(), Catch::Contains("unknown merge policy 42"));
  CHECK(e->read_field("visit/S00001/v1", "enrolled_students")->value().value ==
        Value::integer(412));

  SECTION("an op under an id already stored is a duplicate: the stored op is kept") {
    Op reuse = good_op(1, "class_count", 99);
    Result<ApplyReport> again = e->apply_remote({reuse, good_op(1, "class_count", 9)});
    REQUIRE(again.ok());
    CHECK(again->duplicates == 2);
    CHECK(again->applied == 0);
    CHECK(e->read_field("visit/S00001/v1", "class_count")->value().value == Value::integer(9));
  }
}
