// The contract of hub::Backend (engine/src/hub/backend.h), the storage the hub's logic runs on,
// checked on the embedded SQLite backend. A second backend must pass the same cases: each one
// goes through the Backend interface only, apart from making the store.
#include <catch2/catch.hpp>

#include "hub/sqlite_backend.h"
#include "support/test_support.h"

using namespace vs;

namespace {

struct BackendFixture {
  test::TempDir dir;
  test::ManualClock clock{test::kToday};
  std::unique_ptr<hub::SqliteBackend> sqlite;
  hub::Backend* b = nullptr;

  BackendFixture() {
    REQUIRE(Inspection::create(dir.file("hub"), "hub", "hub", "admin", Role::kAdmin, &clock).ok());
    Result<std::unique_ptr<hub::SqliteBackend>> opened =
        hub::SqliteBackend::open(dir.file("hub"), &clock);
    REQUIRE(opened.ok());
    sqlite = std::move(opened.value());
    b = sqlite.get();
  }
};

Op op(const std::string& device, std::uint64_t seq, const std::string& record,
      const std::string& field, Value v, Policy p = Policy::kLww) {
  Op o;
  o.id = {device, seq};
  o.hlc = make_hlc(static_cast<std::uint64_t>(test::kToday), static_cast<std::uint32_t>(seq));
  o.record = record;
  o.field = field;
  o.policy = p;
  o.value = std::move(v);
  return o;
}

// Every row a scan meets: (pos, device, record, ops), stopping after `stop_after` rows.
struct Seen {
  std::uint64_t pos;
  std::string device;
  std::string record;
  std::size_t ops;
};
Result<std::vector<Seen>> scanned(hub::Backend& b, std::uint64_t after, std::uint64_t until,
                                  const std::string& skip, std::size_t stop_after = 1000) {
  std::vector<Seen> out;
  Status s = b.scan_log(after, until, skip, [&](const hub::LogRow& row) -> Result<hub::Scan> {
    std::vector<Op> ops;
    if (Status r = row.read(ops); !r.ok()) return r;
    REQUIRE(ops.size() == row.op_count());
    out.push_back({row.pos(), std::string(row.device()), std::string(row.record()), ops.size()});
    return out.size() >= stop_after ? hub::Scan::kStop : hub::Scan::kNext;
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace

TEST_CASE_METHOD(BackendFixture, "a backend's device registry stores, revokes and acknowledges") {
  Result<std::optional<hub::DeviceRow>> none = b->find_device("d-x");
  REQUIRE(none.ok());
  CHECK(!none.value());
  REQUIRE(b->insert_device({"d-b", "I0002", false, 0, 0}, 5).ok());
  REQUIRE(b->insert_device({"d-a", "I0001", false, 0, 0}, 6).ok());
  CHECK(!b->insert_device({"d-a", "I0003", false, 0, 0}, 7).ok());  // an id is enrolled once
  REQUIRE(b->set_acked("d-a", 41, 99).ok());
  REQUIRE(b->revoke_device("d-b", 8).ok());
  REQUIRE(b->revoke_device("d-b", 9).ok());
  Result<std::optional<hub::DeviceRow>> a = b->find_device("d-a");
  REQUIRE(a.ok());
  REQUIRE(a.value());
  CHECK(a.value()->inspector_id == "I0001");
  CHECK(!a.value()->revoked);
  CHECK(a.value()->acked_seq == 41);
  CHECK(a.value()->acked_print == 99);
  CHECK(b->find_device("d-b").value()->revoked);
  CHECK(b->device_ids().value() == std::vector<std::string>{"d-a", "d-b"});
}

TEST_CASE_METHOD(BackendFixture, "a backend keeps refusals by device and seq, in seq order") {
  for (std::uint64_t seq : {7u, 3u, 5u, 9u}) {
    REQUIRE(b->add_rejection("d-a", seq, "reason " + std::to_string(seq)).ok());
  }
  REQUIRE(b->add_rejection("d-b", 4, "other device").ok());
  REQUIRE(b->add_rejection("d-a", 5, "second reason").ok());  // replaces the first
  CHECK(b->is_rejected("d-a", 5).value());
  CHECK(!b->is_rejected("d-a", 4).value());
  CHECK(!b->is_rejected("d-c", 5).value());
  using Reasons = std::vector<std::pair<std::uint64_t, std::string>>;
  CHECK(b->reasons("d-a", 4, 9, 10).value() ==
        Reasons{{5, "second reason"}, {7, "reason 7"}, {9, "reason 9"}});
  CHECK(b->reasons("d-a", 1, 100, 2).value() == Reasons{{3, "reason 3"}, {5, "second reason"}});
  CHECK(b->reasons("d-a", 10, 100, 10).value().empty());
}

TEST_CASE_METHOD(BackendFixture, "a backend keeps served scope sets by device and digest") {
  CHECK(!b->served_scopes("d-a", "abc").value());
  REQUIRE(b->add_served_scopes("d-a", "abc", "g s:S1").ok());
  REQUIRE(b->add_served_scopes("d-a", "abc", "g s:S1").ok());  // again: a no-op
  CHECK(b->served_scopes("d-a", "abc").value() == std::optional<std::string>("g s:S1"));
  CHECK(!b->served_scopes("d-b", "abc").value());
}

TEST_CASE_METHOD(BackendFixture, "a backend's transaction keeps all of its writes or none") {
  Status failed = b->transaction([&]() -> Status {
    REQUIRE(b->insert_device({"d-a", "I0001", false, 0, 0}, 1).ok());
    REQUIRE(b->add_rejection("d-a", 1, "r").ok());
    return Status::internal("planned failure");
  });
  CHECK(failed.code() == Code::kInternal);
  CHECK(!b->find_device("d-a").value());
  CHECK(!b->is_rejected("d-a", 1).value());
  REQUIRE(b->transaction([&]() {
             return b->insert_device({"d-a", "I0001", false, 0, 0}, 1);
           }).ok());
  CHECK(b->find_device("d-a").value());
}

TEST_CASE_METHOD(BackendFixture, "a backend's log scans in position order within its bounds") {
  const std::string v1 = "visit/S1/v1";
  const std::string v2 = "visit/S1/v2";
  Result<ApplyReport> r = b->apply({op("d-a", 1, v1, "a.x", Value::integer(1)),
                                    op("d-b", 1, v2, "a.y", Value::integer(2)),
                                    op("d-a", 2, v2, "a.z", Value::integer(3)),
                                    op("d-b", 2, "visit/S2/v3", "a.w", Value::integer(4))});
  REQUIRE(r.ok());
  REQUIRE(r->rejected.empty());
  Result<std::uint64_t> end = b->log_end();
  REQUIRE(end.ok());
  REQUIRE(end.value() >= 3);  // a run may share a row; each row names one device and record
  Result<std::vector<Seen>> all = scanned(*b, 0, end.value(), "nobody");
  REQUIRE(all.ok());
  std::size_t ops = 0;
  for (std::size_t i = 0; i < all->size(); ++i) {
    ops += (*all)[i].ops;
    if (i > 0) CHECK((*all)[i - 1].pos < (*all)[i].pos);
  }
  CHECK(ops == 4);
  CHECK(all->back().pos == end.value());
  // Skipping a device, a window, and a visitor that stops.
  const std::vector<Seen> others = scanned(*b, 0, end.value(), "d-a").value();
  CHECK(!others.empty());
  for (const Seen& s : others) CHECK(s.device == "d-b");
  const std::vector<Seen> inside = scanned(*b, 1, end.value() - 1, "nobody").value();
  CHECK(inside.size() == all->size() - 2);
  for (const Seen& s : inside) {
    CHECK(s.pos > 1);
    CHECK(s.pos < end.value());
  }
  CHECK(scanned(*b, 0, end.value(), "nobody", 1).value().size() == 1);
  // A visitor's error ends the scan and is the scan's result.
  Status s = b->scan_log(0, end.value(), "nobody", [](const hub::LogRow&) -> Result<hub::Scan> {
    return Status::io("planned");
  });
  CHECK(s.code() == Code::kIo);
  // Rows by position: the same ops as the scan met, none past the end.
  Result<std::optional<std::vector<Op>>> first = b->row_at(all->front().pos);
  REQUIRE(first.ok());
  REQUIRE(first.value());
  CHECK(first.value()->size() == all->front().ops);
  CHECK(!b->row_at(end.value() + 1).value());
  // Records by key and prefix; a record's rows.
  const std::vector<std::int64_t> s1 = b->records_under("visit/S1/", 0).value();
  CHECK(s1.size() == 2);
  const std::vector<std::int64_t> one = b->record_id(v2, 0).value();
  REQUIRE(one.size() == 1);
  CHECK(b->record_id(v2, one[0] + 1).value().empty());
  CHECK(b->records_under("visit/S1/", s1.back() + 1).value().empty());
  std::size_t v2_ops = 0;
  REQUIRE(b->scan_record(one[0], 0, end.value(), [&](const hub::LogRow& row) -> Result<hub::Scan> {
             CHECK(row.record() == v2);
             v2_ops += row.op_count();
             return hub::Scan::kNext;
           }).ok());
  CHECK(v2_ops == 2);
}

TEST_CASE_METHOD(BackendFixture, "a backend loads a record as the rules read it") {
  const std::string key = "visit/S1/v1";
  CHECK(!b->load_record(key).value());
  REQUIRE(b->apply({op("d-a", 1, key, "school", Value::text("S1")),
                    op("d-a", 2, key, "inspectors", Value::set({"I1"}), Policy::kUnion),
                    op("d-b", 1, key, "inspectors", Value::set({"I2"}), Policy::kUnion),
                    op("d-b", 2, key, "a.n", Value::integer(5), Policy::kCounter)})
              .ok());
  Result<std::optional<hub::StoredRecord>> rec = b->load_record(key);
  REQUIRE(rec.ok());
  REQUIRE(rec.value());
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (const auto& [device, range] : rec.value()->ops) ranges[device] = range;
  CHECK(ranges == std::map<std::string, std::pair<std::uint64_t, std::uint64_t>>{{"d-a", {1, 2}},
                                                                                 {"d-b", {1, 2}}});
  std::map<std::string, hub::StoredField> fields;
  for (const hub::StoredField& f : rec.value()->fields) fields[f.name] = f;
  REQUIRE(fields.size() == 3);
  CHECK(fields["school"].merged == Value::text("S1"));
  CHECK(fields["school"].first_writer == "d-a");
  CHECK(fields["inspectors"].policy == Policy::kUnion);
  CHECK(fields["inspectors"].merged == Value::set({"I1", "I2"}));
  CHECK(fields["inspectors"].union_values.size() == 2);
  CHECK(fields["a.n"].policy == Policy::kCounter);
  CHECK(fields["a.n"].merged == Value::integer(5));
}

TEST_CASE_METHOD(BackendFixture, "a backend's reference mark moves when the hub writes") {
  const std::string before = b->reference_mark().value();
  CHECK(b->reference_mark().value() == before);
  CHECK(b->assigned_schools("I0001").value().empty());
  REQUIRE(sqlite->inspection()
              .import_reference(ReferenceKind::kSchools,
                                "school_id,name,city,county,township,level,boarding,students,"
                                "teachers,lat,lon\nS1,One,C,North,T,primary,0,10,2,39.1,112.9\n")
              .ok());
  CHECK(b->reference_mark().value() != before);
  CHECK(b->school("S1").value().level == "primary");
  CHECK(b->school("S9").status().code() == Code::kNotFound);
  CHECK(b->schools_in_county("North").value() == std::vector<std::string>{"S1"});
  CHECK(b->schools_in_county("South").value().empty());
  CHECK(b->find_template("none", 1).status().code() == Code::kNotFound);
}
