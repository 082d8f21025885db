// Visits in domain terms: the lifecycle, refusals, findings, counters, and two inspectors
// editing the same visit offline (engine/MERGE.md, "Visits"). Replicas exchange ops
// through the engine directly, as a sync through the hub would.
#include <algorithm>
#include <map>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <visitsync/inspection.h>

#include "support/test_support.h"

using namespace vs;

namespace {

// Shared by I0011 and I0021, in 代县, whose supervisor is I0001; a junior secondary school.
constexpr const char* kSchool = "S00011";

struct Device {
  std::unique_ptr<test::ManualClock> clock;
  std::unique_ptr<Inspection> in;
};

struct Deployment {
  test::TempDir dir;
  test::ManualClock hub_clock{test::kToday};
  std::unique_ptr<Inspection> hub;
  std::map<std::string, Device> devices;

  Deployment() {
    Result<std::unique_ptr<Inspection>> h =
        Inspection::create(dir.file("hub"), "hub", "hub", "admin", Role::kAdmin, &hub_clock);
    REQUIRE(h.ok());
    hub = std::move(h.value());
    for (const char* kind : {"schools", "inspectors", "assignments"}) {
      Result<ImportReport> r = hub->import_reference(
          *parse_reference_kind(kind), test::slurp(test::sample_dir() + "/" + kind + ".csv"));
      REQUIRE(r.ok());
    }
    for (const char* t :
         {"school-conditions", "campus-safety", "teaching-practice", "rural-support"}) {
      REQUIRE(hub->publish_template(test::slurp(test::templates_dir() + "/" + t + ".json")).ok());
    }
  }

  Inspection& device(const std::string& actor, Role role = Role::kInspector) {
    Device& d = devices[actor];
    if (!d.in) {
      d.clock = std::make_unique<test::ManualClock>(test::kToday);
      Result<std::unique_ptr<Inspection>> r = Inspection::create(
          dir.file("dev-" + actor), "dev-" + actor, "enrolled", actor, role, d.clock.get());
      REQUIRE(r.ok());
      d.in = std::move(r.value());
      pull(*d.in, *hub);
    }
    return *d.in;
  }
  test::ManualClock& clock_of(const std::string& actor) { return *devices.at(actor).clock; }

  // `to` receives what `from` has that it has not read yet.
  void pull(Inspection& to, Inspection& from) {
    std::uint64_t& cur = cursor_of(to, from);
    Result<LogSlice> s = from.engine().log_after(cur, 1'000'000);
    REQUIRE(s.ok());
    Result<ApplyReport> r = to.engine().apply_remote(s->ops);
    REQUIRE(r.ok());
    REQUIRE(r->rejected.empty());
    cur = s->next_cursor;
  }
  std::map<std::pair<Inspection*, Inspection*>, std::uint64_t> cursors;
  std::uint64_t& cursor_of(Inspection& to, Inspection& from) { return cursors[{&to, &from}]; }
  // Everyone's changes reach the hub, then everyone.
  void sync_all() {
    for (auto& [name, d] : devices) pull(*hub, *d.in);
    for (auto& [name, d] : devices) pull(*d.in, *hub);
  }
};

void ok(const Status& s) {
  INFO(s.to_string());
  REQUIRE(s.ok());
}

Status refused(const Status& s) {
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Code::kInvalidInput);
  return s;
}

std::string start(Inspection& in, const char* tmpl = "school-conditions",
                  const char* school = kSchool) {
  Result<std::string> id = in.start_visit(school, tmpl);
  INFO(id.status().to_string());
  REQUIRE(id.ok());
  return id.value();
}

VisitView view(Inspection& in, const std::string& id) {
  Result<VisitView> v = in.visit(id);
  INFO(v.status().to_string());
  REQUIRE(v.ok());
  return v.value();
}

std::vector<std::string> flagged_items(const VisitView& v) {
  std::vector<std::string> items;
  for (const Flag& f : v.flags) items.push_back(f.item);
  return items;
}

const Answer& answer(const VisitView& v, const std::string& item) {
  for (const Answer& a : v.answers) {
    if (a.item->key == item) return a;
  }
  FAIL("no item " << item);
  return v.answers.front();
}

}  // namespace

TEST_CASE_METHOD(Deployment, "a visit goes from draft to submitted, returned and approved",
                 "[engine][visit][lifecycle]") {
  Inspection& inspector = device("I0011");
  const std::string id = start(inspector);
  CHECK(view(inspector, id).status.phase == Phase::kDraft);

  const Status early = refused(inspector.submit(id));
  CHECK_THAT(early.message(),
             Catch::Contains("required items not answered: dangerous_buildings, "
                             "sports_ground_surfaced, enrolled_students, class_count, "
                             "largest_class_size, canteen_licensed, overall_rating"));
  test::answer_required(inspector, id);
  ok(inspector.submit(id));
  CHECK(view(inspector, id).status.phase == Phase::kSubmitted);
  CHECK_THAT(refused(inspector.set_answer(id, "class_count", "10")).message(),
             Catch::Contains("locked until a supervisor returns it"));
  CHECK_THAT(refused(inspector.review(id, "approve", "")).message(),
             Catch::Contains("only a supervisor"));

  Inspection& supervisor = device("I0001", Role::kSupervisor);
  sync_all();
  ok(supervisor.review(id, "return", "请补充班额数据 / add class sizes"));
  sync_all();
  VisitView returned = view(inspector, id);
  CHECK(returned.status.phase == Phase::kReturned);
  CHECK(returned.status.round == 2);
  REQUIRE(returned.reviews.size() == 1);
  CHECK(returned.reviews[0].comment == "请补充班额数据 / add class sizes");
  CHECK(returned.reviews[0].by == "I0001");

  ok(inspector.set_answer(id, "largest_class_size", "52"));
  ok(inspector.submit(id));
  sync_all();
  ok(supervisor.review(id, "approve", ""));
  sync_all();
  VisitView approved = view(inspector, id);
  CHECK(approved.status.phase == Phase::kApproved);
  CHECK(approved.status.round == 2);
  CHECK(approved.flags.empty());
  CHECK_THAT(refused(inspector.set_answer(id, "class_count", "10")).message(),
             Catch::Contains("approved: its answers are final"));
  CHECK_THAT(refused(supervisor.review(id, "return", "")).message(),
             Catch::Contains("only a submitted visit"));
  CHECK(Inspection::to_json(approved) == Inspection::to_json(view(supervisor, id)));
}

TEST_CASE_METHOD(Deployment, "visits are refused where the rules say no",
                 "[engine][visit][input]") {
  Inspection& inspector = device("I0011");
  CHECK_THAT(refused(inspector.start_visit("S00012", "school-conditions").status()).message(),
             Catch::Contains("not assigned to school S00012"));
  CHECK(inspector.start_visit("S99999", "school-conditions").status().code() == Code::kNotFound);
  CHECK(inspector.start_visit(kSchool, "no-such-template").status().code() == Code::kNotFound);
  // S00041 is a teaching point of the inspector's county, assigned to it.
  CHECK_THAT(refused(inspector.start_visit("S00041", "school-conditions").status()).message(),
             Catch::Contains("does not apply to teaching_point schools"));
  CHECK_THAT(
      refused(device("I0001", Role::kSupervisor).start_visit(kSchool, "school-conditions").status())
          .message(),
      Catch::Contains("only inspectors start visits"));

  const std::string id = start(inspector);
  const Status unseen = device("I0009", Role::kSupervisor).review(id.substr(0, 8), "approve", "");
  CHECK(unseen.code() == Code::kNotFound);  // not synced to it: it does not even see it
  CHECK_THAT(unseen.message(), Catch::Contains("no visit"));
  sync_all();
  CHECK_THAT(refused(device("I0009", Role::kSupervisor).review(id, "approve", "")).message(),
             Catch::Contains("outside the county"));
  CHECK_THAT(refused(device("I0001", Role::kSupervisor).review(id, "approve", "")).message(),
             Catch::Contains("is draft: only a submitted visit"));
  CHECK_THAT(refused(inspector.visit("abc").status()).message(),
             Catch::Contains("at least 6 characters"));
}

TEST_CASE_METHOD(Deployment, "an invalid answer is refused and nothing is stored",
                 "[engine][visit][input]") {
  Inspection& in = device("I0011");
  const std::string id = start(in);
  ok(in.set_answer(id, "largest_class_size", "48"));
  const std::string before = in.engine().digest().value();
  const std::uint64_t ops = in.engine().stats()->ops;
  struct Case {
    const char* item;
    const char* value;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"largest_class_size", "151", "largest_class_size: 151 is outside 0..150"},
           {"largest_class_size", "forty", "is not a whole number"},
           {"dangerous_buildings", "e_grade", "is not an option (none, c_grade, d_grade)"},
           {"issues_found", "water,flood", "'flood' is not an option"},
           {"sports_ground_surfaced", "maybe", "is not yes or no"},
           {"location", "38.8", "is not a gps point"},
           {"no_such_item", "1", "has no item 'no_such_item'"},
           {"inspector_notes", "x", "keeps notes: add one with visit note"},
       }) {
    INFO(c.item << " = " << c.value);
    CHECK_THAT(refused(in.set_answer(id, c.item, c.value)).message(), Catch::Contains(c.message));
  }
  CHECK_THAT(refused(in.add_note(id, "inspector_notes", std::string(2001, 'x'))).message(),
             Catch::Contains("2001 characters, at most 2000"));
  CHECK_THAT(refused(in.add_note(id, "class_count", "x")).message(),
             Catch::Contains("not a notes item"));
  CHECK(in.engine().digest().value() == before);
  CHECK(in.engine().stats()->ops == ops);
  CHECK(answer(view(in, id), "largest_class_size").value == Value::integer(48));
}

TEST_CASE_METHOD(Deployment, "findings follow the template's rules and the current answers",
                 "[engine][visit][findings]") {
  Inspection& in = device("I0011");
  const std::string id = start(in);
  CHECK(view(in, id).findings.empty());
  ok(in.set_answer(id, "largest_class_size", "61"));
  VisitView v = view(in, id);
  REQUIRE(v.findings.size() == 1);
  CHECK(v.findings[0].level == "fail");
  CHECK(v.findings[0].item == "largest_class_size");
  CHECK_THAT(v.findings[0].message,
             Catch::Contains("61 is above 55") && Catch::Contains("oversized class"));
  ok(in.set_answer(id, "largest_class_size", "50"));
  v = view(in, id);
  REQUIRE(v.findings.size() == 1);
  CHECK(v.findings[0].level == "warn");
  ok(in.set_answer(id, "largest_class_size", "40"));
  CHECK(view(in, id).findings.empty());

  const std::string tp = start(in, "teaching-practice");
  ok(in.set_answer(tp, "pe_minutes_per_day", "30"));
  v = view(in, tp);
  REQUIRE(v.findings.size() == 1);
  CHECK_THAT(v.findings[0].message, Catch::Contains("30 is below 60"));
  CHECK_THAT(Inspection::to_json(v),
             Catch::Contains("\"findings\":[{\"item\":\"pe_minutes_per_day\""));
}

TEST_CASE_METHOD(Deployment, "a counter item takes totals and changes, and adds up across devices",
                 "[engine][visit][counter]") {
  Inspection& a = device("I0011");
  Inspection& b = device("I0021");
  const std::string id = start(a, "teaching-practice");
  ok(a.set_answer(id, "lessons_observed", "3"));
  ok(a.set_answer(id, "lessons_observed", "+2"));
  CHECK(answer(view(a, id), "lessons_observed").value == Value::integer(5));
  sync_all();
  ok(a.set_answer(id, "lessons_observed", "+1"));  // both observe a lesson, offline
  ok(b.set_answer(id, "lessons_observed", "+1"));
  sync_all();
  sync_all();
  CHECK(answer(view(a, id), "lessons_observed").value == Value::integer(7));
  CHECK(answer(view(b, id), "lessons_observed").value == Value::integer(7));
  CHECK_THAT(refused(a.set_answer(id, "lessons_observed", "-8")).message(),
             Catch::Contains("-1 is outside 0..100"));
  // A change is judged by the total it leads to, and keeps its sign.
  CHECK_THAT(refused(a.set_answer(id, "lessons_observed", "+150")).message(),
             Catch::Contains("157 is outside 0..100"));
  CHECK_THAT(refused(a.set_answer(id, "lessons_observed", "--2")).message(),
             Catch::Contains("not a change"));
  CHECK_THAT(refused(a.set_answer(id, "lessons_observed", "+9223372036854775807")).message(),
             Catch::Contains("out of range"));
  ok(a.set_answer(id, "lessons_observed", "+93"));
  CHECK(answer(view(a, id), "lessons_observed").value == Value::integer(100));
}

TEST_CASE_METHOD(
    Deployment,
    "two inspectors edit one visit offline: identical results, exactly the expected flags",
    "[engine][visit][concurrency]") {
  Inspection& a = device("I0011");
  Inspection& b = device("I0021");
  const std::string id = start(a);
  ok(a.set_answer(id, "issues_found", "water"));
  sync_all();
  clock_of("I0021").advance(1000);

  // Offline, both at once.
  ok(a.set_answer(id, "class_count", "9"));  // same lww item, different values
  ok(b.set_answer(id, "class_count", "13"));
  ok(a.set_answer(id, "enrolled_students", "400"));  // same lww item, same value
  ok(b.set_answer(id, "enrolled_students", "400"));
  ok(a.set_answer(id, "broadband_ok", "yes"));  // different items
  ok(b.set_answer(id, "library_books", "3000"));
  ok(a.add_note(id, "inspector_notes", "东侧围墙有缺口"));  // notes on both
  ok(b.add_note(id, "inspector_notes", "canteen sample log incomplete"));
  ok(a.set_answer(id, "issues_found", "water,bus_safety"));  // a union item
  ok(b.set_answer(id, "issues_found", "canteen"));           // b also removes water
  ok(a.set_answer(id, "largest_class_size", "48"));          // a max item
  ok(b.set_answer(id, "largest_class_size", "61"));
  sync_all();
  sync_all();

  const VisitView va = view(a, id);
  const VisitView vb = view(b, id);
  CHECK(Inspection::to_json(va) == Inspection::to_json(vb));
  CHECK(a.engine().digest().value() == b.engine().digest().value());
  CHECK(flagged_items(va) == std::vector<std::string>{"class_count"});
  CHECK(answer(va, "class_count").versions.size() == 2);
  CHECK(answer(va, "enrolled_students").value == Value::integer(400));
  CHECK(answer(va, "broadband_ok").value == Value::boolean(true));
  CHECK(answer(va, "library_books").value == Value::integer(3000));
  CHECK(answer(va, "inspector_notes").versions.size() == 2);
  CHECK(answer(va, "issues_found").value == Value::set({"bus_safety", "canteen", "water"}));
  CHECK(answer(va, "largest_class_size").value == Value::integer(61));
  CHECK(va.inspectors == std::vector<std::string>{"I0011", "I0021"});

  ok(a.resolve(id, "class_count", "11"));
  sync_all();
  sync_all();
  CHECK(view(b, id).flags.empty());
  CHECK(answer(view(b, id), "class_count").value == Value::integer(11));
  CHECK(a.flags()->empty());
}

TEST_CASE_METHOD(Deployment, "an edit made concurrently with a submit is kept and flagged",
                 "[engine][visit][concurrency]") {
  Inspection& a = device("I0011");
  Inspection& b = device("I0021");
  const std::string id = start(a);
  test::answer_required(a, id);
  sync_all();
  ok(a.submit(id));                             // a submits, offline
  ok(b.set_answer(id, "overall_rating", "2"));  // b has not seen the submit
  ok(b.add_note(id, "inspector_notes", "食堂留样记录不全"));
  ok(b.set_answer(id, "smart_classrooms", "3"));
  sync_all();
  sync_all();

  VisitView v = view(a, id);
  CHECK(v.status.phase == Phase::kSubmitted);
  CHECK(answer(v, "overall_rating").value == Value::integer(2));  // kept
  CHECK(answer(v, "smart_classrooms").value == Value::integer(3));
  CHECK(flagged_items(v) ==
        std::vector<std::string>{"smart_classrooms", "overall_rating", "inspector_notes"});
  for (const Flag& f : v.flags)
    CHECK_THAT(f.reason, Catch::Contains("concurrently with the submission"));
  CHECK(Inspection::to_json(v) == Inspection::to_json(view(b, id)));

  // The supervisor approves: the flags stay, the visit does not reopen.
  Inspection& sup = device("I0001", Role::kSupervisor);
  sync_all();
  ok(sup.review(id, "approve", ""));
  // Accepting b's last change accepts that change alone, not b's earlier ones.
  ok(sup.resolve(id, "smart_classrooms", "3"));
  CHECK(flagged_items(view(sup, id)) ==
        std::vector<std::string>{"overall_rating", "inspector_notes"});
  ok(sup.resolve(id, "overall_rating", "3"));
  ok(sup.resolve(id, "inspector_notes", ""));
  sync_all();
  sync_all();
  v = view(b, id);
  CHECK(v.status.phase == Phase::kApproved);
  CHECK(v.flags.empty());
  CHECK(answer(v, "overall_rating").value == Value::integer(3));
  CHECK(answer(v, "inspector_notes").versions.size() == 1);  // the note stays
  CHECK(Inspection::to_json(v) == Inspection::to_json(view(a, id)));
}

TEST_CASE_METHOD(Deployment,
                 "a counter incremented concurrently with a submit is flagged until a supervisor "
                 "decides its total",
                 "[engine][visit][concurrency][counter]") {
  Inspection& a = device("I0011");
  Inspection& b = device("I0021");
  const std::string id = start(a, "teaching-practice");
  for (const auto& [item, value] :
       std::vector<std::pair<const char*, const char*>>{{"national_curriculum_complete", "yes"},
                                                        {"teachers_on_payroll", "40"},
                                                        {"overall_rating", "4"},
                                                        {"lessons_observed", "3"}}) {
    ok(a.set_answer(id, item, value));
  }
  sync_all();
  ok(a.submit(id));                                // a submits 3 lessons, offline
  ok(b.set_answer(id, "lessons_observed", "+2"));  // b has not seen the submit
  sync_all();
  sync_all();

  VisitView v = view(a, id);
  CHECK(answer(v, "lessons_observed").value == Value::integer(5));  // every increment counts
  REQUIRE(flagged_items(v) == std::vector<std::string>{"lessons_observed"});
  CHECK_THAT(v.flags[0].reason, Catch::Contains("incremented concurrently with the submission"));
  REQUIRE(v.flags[0].versions.size() == 1);  // b's increment alone, not a's
  CHECK(v.flags[0].versions[0].value == Value::integer(2));
  CHECK(Inspection::to_json(v) == Inspection::to_json(view(b, id)));

  // The supervisor decides the total: one more increment, and the late one is accepted.
  Inspection& sup = device("I0001", Role::kSupervisor);
  sync_all();
  ok(sup.resolve(id, "lessons_observed", "4"));
  sync_all();
  sync_all();
  v = view(b, id);
  CHECK(v.flags.empty());
  CHECK(answer(v, "lessons_observed").value == Value::integer(4));
  CHECK(Inspection::to_json(v) == Inspection::to_json(view(a, id)));
  CHECK(a.engine().digest().value() == sup.engine().digest().value());
}

TEST_CASE_METHOD(Deployment, "an approval and a return made concurrently are flagged until decided",
                 "[engine][visit][concurrency]") {
  Inspection& a = device("I0011");
  const std::string id = start(a);
  test::answer_required(a, id);
  ok(a.submit(id));
  Inspection& sup = device("I0001", Role::kSupervisor);
  sync_all();
  ok(sup.review(id, "approve", ""));
  ok(hub->review(id, "return", "recount the classes"));  // the administrator, at the same time
  sync_all();
  sync_all();
  VisitView v = view(a, id);
  CHECK(v.status.phase == Phase::kReturned);
  CHECK(flagged_items(v) == std::vector<std::string>{"status"});
  CHECK_THAT(refused(a.resolve(id, "status", "approve")).message(),
             Catch::Contains("only a supervisor decides"));
  ok(sup.resolve(id, "status", "approve"));
  sync_all();
  sync_all();
  v = view(a, id);
  CHECK(v.status.phase == Phase::kApproved);
  CHECK(v.status.round == 1);
  CHECK(v.flags.empty());
}

TEST_CASE_METHOD(Deployment,
                 "a late edit from an earlier round is flagged on the visit approved after it",
                 "[engine][visit][concurrency]") {
  Inspection& a = device("I0011");
  Inspection& b = device("I0021");
  Inspection& sup = device("I0001", Role::kSupervisor);
  const std::string id = start(a);
  test::answer_required(a, id);
  sync_all();
  ok(a.submit(id));
  pull(*hub, a);
  ok(b.set_answer(id, "class_count", "12"));  // b is offline and still sees round 1 open
  pull(sup, *hub);
  ok(sup.review(id, "return", "recount the classes"));
  pull(*hub, sup);
  pull(a, *hub);
  ok(a.submit(id));  // round 2, without b's change
  pull(*hub, a);
  pull(sup, *hub);
  ok(sup.review(id, "approve", ""));
  sync_all();
  sync_all();

  VisitView v = view(a, id);
  CHECK(v.status.phase == Phase::kApproved);
  CHECK(v.status.round == 2);
  CHECK(answer(v, "class_count").value == Value::integer(12));  // kept, and flagged
  CHECK(flagged_items(v) == std::vector<std::string>{"class_count"});
  CHECK(Inspection::to_json(v) == Inspection::to_json(view(b, id)));
  ok(sup.resolve(id, "class_count", "9"));
  sync_all();
  sync_all();
  v = view(b, id);
  CHECK(v.flags.empty());
  CHECK(v.status.phase == Phase::kApproved);
  CHECK(answer(v, "class_count").value == Value::integer(9));
}

TEST_CASE_METHOD(Deployment, "an inspector settles a co-inspector's conflict, not a supervisor's",
                 "[engine][visit][concurrency]") {
  Inspection& a = device("I0011");
  Inspection& b = device("I0021");
  const std::string id = start(a);
  test::answer_required(a, id);
  sync_all();
  ok(a.set_answer(id, "class_count", "10"));
  ok(b.set_answer(id, "class_count", "11"));
  sync_all();
  sync_all();
  REQUIRE(flagged_items(view(a, id)) == std::vector<std::string>{"class_count"});
  ok(a.resolve(id, "class_count", "11"));
  Result<RecordView> rec = a.engine().read("visit/" + std::string(kSchool) + "/" + id);
  REQUIRE(rec.ok());
  for (const Version& ver : rec->find("a.class_count")->versions) {
    CHECK(ver.context == 1);  // an inspector's edit in round 1, without the review mark
  }
}

TEST_CASE_METHOD(Deployment, "a review entry that is not a review is skipped, not fatal",
                 "[engine][visit][input]") {
  Inspection& a = device("I0011");
  const std::string id = start(a);
  sync_all();
  const std::string key = "visit/" + std::string(kSchool) + "/" + id;
  for (const char* bad : {R"({"by":"I0001","decision":"approve","comment":"","round":"1"})",
                          R"({"by":7})", "[1,2]", "not json"}) {
    REQUIRE(hub->engine()
                .write(Write{key, "reviews", Policy::kAppend, Value::text(bad), 1u << 31 | 1})
                .ok());
  }
  pull(a, *hub);
  Result<std::vector<VisitView>> all = a.visits();
  INFO(all.status().to_string());
  REQUIRE(all.ok());
  CHECK(view(a, id).reviews.empty());
}

TEST_CASE_METHOD(Deployment, "a CSV export has a column for every item of the versions in use",
                 "[engine][visit][export]") {
  Inspection& a = device("I0011");
  const std::string old_visit = start(a);
  ok(a.set_answer(old_visit, "library_books", "3000"));
  // Version 2 of the template drops library_books.
  nlohmann::json t =
      nlohmann::json::parse(test::slurp(test::templates_dir() + "/school-conditions.json"));
  t["version"] = 2;
  for (auto& section : t["sections"]) {
    auto& items = section["items"];
    items.erase(std::remove_if(items.begin(), items.end(),
                               [](const nlohmann::json& i) { return i["key"] == "library_books"; }),
                items.end());
  }
  ok(hub->publish_template(t.dump()).status());
  pull(a, *hub);
  const std::string new_visit = start(a);
  REQUIRE(view(a, new_visit).template_version == 2);

  Result<std::string> csv = a.export_visits(ExportFormat::kCsv, "school-conditions");
  INFO(csv.status().to_string());
  REQUIRE(csv.ok());
  CHECK_THAT(csv->substr(0, csv->find('\n')), Catch::Contains(",library_books"));
  const std::size_t row = csv->find(old_visit);
  REQUIRE(row != std::string::npos);
  CHECK_THAT(csv->substr(row, csv->find('\n', row) - row), Catch::Contains(",3000"));
  // The same columns whichever way the visits are chosen.
  Result<std::string> all = a.export_visits(ExportFormat::kCsv, "");
  REQUIRE(all.ok());
  CHECK(all.value() == csv.value());
}

TEST_CASE_METHOD(Deployment, "free text that looks like a formula is inert in the CSV export",
                 "[engine][visit][export][input]") {
  Inspection& a = device("I0011");
  const std::string id = start(a);
  ok(a.add_note(id, "inspector_notes", "=HYPERLINK(\"http://example.invalid\",\"open\")"));
  ok(a.set_answer(id, "class_count", "9"));
  Result<std::string> csv = a.export_visits(ExportFormat::kCsv, "school-conditions");
  REQUIRE(csv.ok());
  CHECK_THAT(csv.value(), Catch::Contains("\"'=HYPERLINK("));
  CHECK_THAT(csv.value(), Catch::Contains(",9,"));  // numbers are left alone
  Result<std::string> jsonl = a.export_visits(ExportFormat::kJsonl, "school-conditions");
  REQUIRE(jsonl.ok());
  CHECK_THAT(jsonl.value(), Catch::Contains("\"=HYPERLINK("));
}

TEST_CASE_METHOD(Deployment, "a stored template this build cannot read leaves the others usable",
                 "[engine][visit][input]") {
  Inspection& a = device("I0011");
  const std::size_t good = a.templates()->size();
  REQUIRE(a.engine()
              .write(Write{"template/from-the-future/000001", "body", Policy::kLww,
                           Value::text(R"({"format": 99})"), 0})
              .ok());
  Result<std::vector<std::shared_ptr<const Template>>> all = a.templates();
  REQUIRE(all.ok());
  CHECK(all->size() == good);
  Result<std::shared_ptr<const Template>> broken = a.find_template("from-the-future", 0);
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.status().message(), Catch::Contains("stored template from-the-future"));
  const std::string id = start(a);  // the newest school-conditions is still found
  ok(a.set_answer(id, "class_count", "9"));
  CHECK(a.visits().ok());
  // A co-inspector's visit made with that template: listed without answers, and the others too.
  const std::string school = a.visit(id)->school_id;
  const std::string future = "visit/" + school + "/5e0bd5a4-0000-4000-8000-00000000f00d";
  REQUIRE(
      a.engine()
          .write_batch({Write{future, "school", Policy::kLww, Value::text(school), 0},
                        Write{future, "template", Policy::kLww, Value::text("from-the-future"), 0},
                        Write{future, "template_version", Policy::kLww, Value::integer(1), 0}})
          .ok());
  Result<std::vector<VisitView>> listed = a.visits();
  REQUIRE(listed.ok());
  CHECK(listed->size() == 2);
  Status answered = a.set_answer("5e0bd5a4-0000-4000-8000-00000000f00d", "class_count", "9");
  CHECK(answered.code() == Code::kNotFound);
  CHECK_THAT(answered.message(), Catch::Contains("cannot read it"));
}

TEST_CASE_METHOD(Deployment, "a visit's history shows every change with the values it replaced",
                 "[engine][visit][history]") {
  Inspection& a = device("I0011");
  Inspection& b = device("I0021");
  const std::string id = start(a);
  test::answer_required(a, id);
  ok(a.set_answer(id, "class_count", "10"));
  sync_all();
  clock_of("I0011").advance(1000);
  clock_of("I0021").advance(2000);
  ok(a.set_answer(id, "class_count", "12"));  // over 10
  ok(b.set_answer(id, "class_count", "14"));  // over 10 too, concurrently
  sync_all();
  clock_of("I0011").advance(5000);
  ok(a.resolve(id, "class_count", "13"));  // over both
  ok(a.submit(id));
  sync_all();

  Result<std::vector<Change>> h = hub->history(id.substr(0, 8));
  INFO(h.status().to_string());
  REQUIRE(h.ok());
  std::vector<std::string> lines;
  for (const Change& c : h.value()) {
    if (c.what != "class_count" && c.what != "status") continue;
    std::string before;
    for (const std::string& v : c.before) before += (before.empty() ? "" : "|") + v;
    lines.push_back(c.op.device + " " + c.what + " " + before + ">" + c.after);
  }
  // The start wrote the draft status over nothing, answer_required's 9 replaced nothing, the
  // two concurrent answers each replaced 10, the settlement replaced both, and the submit
  // replaced the draft.
  CHECK(lines == std::vector<std::string>{
                     "dev-I0011 status >draft (round 1)",
                     "dev-I0011 class_count >9",
                     "dev-I0011 class_count 9>10",
                     "dev-I0011 class_count 10>12",
                     "dev-I0021 class_count 10>14",
                     "dev-I0011 class_count 12|14>13",
                     "dev-I0011 status draft (round 1)>submitted (round 1)",
                 });
  // On the hub no op is its own; on the writer's device its own carry its person.
  for (const Change& c : h.value()) CHECK(c.by.empty());
  Result<std::vector<Change>> mine = a.history(id);
  REQUIRE(mine.ok());
  REQUIRE_FALSE(mine->empty());
  for (const Change& c : mine.value()) CHECK(c.by == (c.op.device == "dev-I0011" ? "I0011" : ""));
  CHECK(hub->history("ffffffffff").status().code() == Code::kNotFound);
}
