// The session state machines, connected in memory: a full sync, refusals, and a session cut
// after any message, then resumed, with nothing lost or duplicated.
#include <filesystem>
#include <functional>

#include <catch2/catch.hpp>

#include "hub_fixture.h"
#include "session/device_session.h"
#include "session/hub_session.h"
#include "wire/messages.h"

using namespace vs;

namespace {

// Runs a session to its end, or until `max_frames` frames have crossed (a cut link). `peer` is
// the device id the hub's TLS layer would have read from the certificate.
Status run(test::TestDevice& d, HubStore& hub, std::size_t max_frames = 1'000'000,
           SyncReport* report = nullptr, std::string peer = "",
           std::function<void(const SyncProgress&)> progress = nullptr) {
  SyncOptions o;
  o.progress = std::move(progress);
  o.push_batch_ops = 50;
  o.pull_batch_ops = 40;
  session::DeviceSession dev(d.engine(), o);
  session::HubSession hs(hub, peer.empty() ? d.enrollment.device_id : peer, "hub-test");
  Result<std::vector<wire::Frame>> to_hub = dev.start();
  std::size_t crossed = 0;
  while (to_hub.ok() && !dev.done()) {
    std::vector<wire::Frame> to_device;
    for (const wire::Frame& f : to_hub.value()) {
      if (++crossed > max_frames) return Status::unavailable("cut");
      Result<std::vector<wire::Frame>> r = hs.on_frame(f);
      if (!r.ok()) return r.status();
      for (auto& x : r.value()) to_device.push_back(std::move(x));
    }
    REQUIRE_FALSE(to_device.empty());
    for (const wire::Frame& f : to_device) {
      if (++crossed > max_frames) return Status::unavailable("cut");
      to_hub = dev.on_frame(f);
      if (!to_hub.ok()) return to_hub.status();
    }
  }
  if (to_hub.ok()) {
    for (const wire::Frame& f : to_hub.value()) REQUIRE(hs.on_frame(f).ok());  // the bye
    CHECK(hs.finished());
  }
  if (report != nullptr) *report = dev.report();
  return to_hub.status();
}

std::string visit_json(Inspection& in, const std::string& id) {
  Result<VisitView> v = in.visit(id);
  INFO(v.status().to_string());
  REQUIRE(v.ok());
  return Inspection::to_json(v.value());
}

// How many ops of `device` the engine's log holds.
std::size_t ops_from(Engine& e, const std::string& device) {
  Result<LogSlice> all = e.log_after(0, 100'000'000);
  REQUIRE(all.ok());
  return static_cast<std::size_t>(std::count_if(
      all->ops.begin(), all->ops.end(), [&](const Op& op) { return op.id.device == device; }));
}

}  // namespace

TEST_CASE_METHOD(test::Deployment, "two devices sync through the session state machines",
                 "[transport][session]") {
  test::TestDevice a = device("I0011");
  test::TestDevice b = device("I0021");
  REQUIRE(run(a, *store).ok());
  REQUIRE(run(b, *store).ok());
  Result<std::string> id = a.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(id.ok());
  test::answer_required(*a.in, id.value());
  SyncReport report;
  REQUIRE(run(a, *store, 1'000'000, &report).ok());
  const std::uint64_t written = a.engine().stats()->last_own_seq;
  CHECK(report.pushed == written);
  CHECK(report.pulled == 0);  // its own ops do not come back
  CHECK(a.engine().counter(session::kAckedCounter).value() == written);
  REQUIRE(run(b, *store, 1'000'000, &report).ok());
  CHECK(report.pulled == written);
  CHECK(visit_json(*a.in, id.value()) == visit_json(*b.in, id.value()));
  CHECK(visit_json(store->inspection(), id.value()) == visit_json(*a.in, id.value()));
}

TEST_CASE_METHOD(test::Deployment,
                 "progress counts the ops pushed against those the session set out to push",
                 "[transport][session]") {
  test::TestDevice a = device("I0011");
  REQUIRE(run(a, *store).ok());
  for (int i = 0; i < 10; ++i) {
    Result<std::string> id = a.in->start_visit(test::kSharedSchool, "school-conditions");
    REQUIRE(id.ok());
    test::answer_required(*a.in, id.value());
  }
  const std::uint64_t mine = a.engine().stats()->last_own_seq;
  REQUIRE(mine > 100);  // more than two pushes of 50
  std::vector<SyncProgress> seen;
  REQUIRE(run(a, *store, 1'000'000, nullptr, "", [&](const SyncProgress& p) {
            seen.push_back(p);
          }).ok());
  REQUIRE(seen.size() >= 4);
  for (const SyncProgress& p : seen) CHECK(p.to_push == mine);
  CHECK(seen[0].pushed == 0);  // welcomed: nothing pushed yet
  CHECK(seen[1].pushed == 50);
  CHECK(seen.back().pushed == mine);
}

TEST_CASE_METHOD(test::Deployment, "a device learns how far its clock is from the hub's",
                 "[transport][session]") {
  test::ManualClock ahead{test::kToday + 2 * 3'600'000};  // two hours fast
  Result<DeviceRecord> rec = store->enroll_device("I0011");
  REQUIRE(rec.ok());
  Result<std::unique_ptr<Inspection>> in = Inspection::create(
      dir().file(rec->device_id), rec->device_id, "enrolled", "I0011", rec->role, &ahead);
  REQUIRE(in.ok());
  test::TestDevice fast{Enrollment{}, std::move(in.value())};
  fast.enrollment.device_id = rec->device_id;
  SyncReport report;
  REQUIRE(run(fast, *store, 1'000'000, &report).ok());
  CHECK(report.skew_ms == 2 * 3'600'000);
  // An hour later, having written nothing since: its clock is what counts, not its last stamp.
  ahead.advance(3'600'000);
  clock.advance(3'600'000);
  REQUIRE(run(fast, *store, 1'000'000, &report).ok());
  CHECK(report.skew_ms == 2 * 3'600'000);
  ahead.advance(-3 * 3'600'000);  // now an hour slow
  REQUIRE(run(fast, *store, 1'000'000, &report).ok());
  CHECK(report.skew_ms == -3'600'000);
}

TEST_CASE_METHOD(test::Deployment, "the hub refuses what it must, with the reason",
                 "[transport][session][input]") {
  test::TestDevice a = device("I0011");
  SECTION("a hello that does not match the certificate") {
    Status s = run(a, *store, 1'000'000, nullptr, "d-I0021-someone");
    CHECK(s.code() == Code::kRejected);
    CHECK_THAT(s.message(), Catch::Contains("certificate"));
  }
  SECTION("a revoked device") {
    REQUIRE(store->revoke_device(a.enrollment.device_id).ok());
    Status s = run(a, *store);
    CHECK(s.code() == Code::kRejected);
    CHECK_THAT(s.message(), Catch::Contains("revoked"));
  }
  SECTION("a device that speaks only a newer protocol: refused, as the device reports it") {
    session::HubSession hs(*store, a.enrollment.device_id, "hub-test");
    wire::Hello h;
    h.device_id = a.enrollment.device_id;
    h.protocol_min = h.protocol_max = wire::kProtocolVersion + 1;
    Result<std::vector<wire::Frame>> r = hs.on_frame(wire::encode(h));
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    session::DeviceSession dev(a.engine(), SyncOptions{});
    REQUIRE(dev.start().ok());
    Result<std::vector<wire::Frame>> told = dev.on_frame(r->front());
    CHECK(told.status().code() == Code::kRejected);  // `visitsync sync` exits 4
    CHECK_THAT(told.status().message(), Catch::Contains("protocol versions"));
  }
  SECTION("a message out of turn") {
    session::HubSession hs(*store, a.enrollment.device_id, "hub-test");
    Result<std::vector<wire::Frame>> r = hs.on_frame(wire::encode(wire::PullRequest{}));
    CHECK(r.status().code() == Code::kCorrupt);
    CHECK(hs.finished());
  }
}

TEST_CASE_METHOD(test::Deployment,
                 "a session cut after any message resumes with nothing lost or doubled",
                 "[transport][session][resume]") {
  test::TestDevice a = device("I0011");
  test::TestDevice b = device("I0021");
  REQUIRE(run(a, *store).ok());
  REQUIRE(run(b, *store).ok());
  std::vector<std::string> visits;
  for (int cut = 1; cut <= 14; ++cut) {
    INFO("cut after " << cut << " frames");
    // New work on both devices each round, several batches' worth: visits on a, answers on b.
    for (int k = 0; k < 3; ++k) {
      Result<std::string> id = a.in->start_visit(test::kSharedSchool, "school-conditions");
      REQUIRE(id.ok());
      visits.push_back(id.value());
      test::answer_required(*a.in, id.value());
      REQUIRE(a.in->add_note(id.value(), "inspector_notes", "round " + std::to_string(cut)).ok());
    }
    for (std::size_t k = 0; k + 3 < visits.size(); ++k) {
      REQUIRE(b.in->set_answer(visits[k], "library_books",
                               std::to_string(cut * 100 + static_cast<int>(k)))
                  .ok());
    }
    // Cut: the session ends after `cut` frames (or completes, if it was shorter).
    for (test::TestDevice* d : {&a, &b}) {
      const Status s = run(*d, *store, static_cast<std::size_t>(cut));
      CHECK((s.ok() || s.code() == Code::kUnavailable));
    }
    REQUIRE(run(a, *store).ok());
    REQUIRE(run(b, *store).ok());
    REQUIRE(run(a, *store).ok());

    for (test::TestDevice* d : {&a, &b}) {
      const std::uint64_t last = d->engine().stats()->last_own_seq;
      CHECK(store->device(d->enrollment.device_id)->acked_seq == last);
      CHECK(ops_from(store->engine(), d->enrollment.device_id) == last);  // each op once
    }
    for (const std::string& v : visits) {
      const std::string on_hub = visit_json(store->inspection(), v);
      CHECK(visit_json(*a.in, v) == on_hub);
      CHECK(visit_json(*b.in, v) == on_hub);
    }
  }
}

TEST_CASE_METHOD(test::Deployment,
                 "a device restored from an older copy is refused, not silently skipped",
                 "[transport][session][input]") {
  test::TestDevice a = device("I0011");
  REQUIRE(run(a, *store).ok());
  Result<std::string> id = a.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(id.ok());
  REQUIRE(run(a, *store).ok());
  const std::string data = a.in->data_dir();
  // A backup of the device's folder, then more work that reaches the hub.
  a.in.reset();
  const std::string backup = dir().file("backup");
  std::filesystem::copy(data, backup, std::filesystem::copy_options::recursive);
  {
    Result<std::unique_ptr<Inspection>> again = Inspection::open(data, &clock);
    REQUIRE(again.ok());
    a.in = std::move(again.value());
  }
  test::answer_required(*a.in, id.value());
  REQUIRE(run(a, *store).ok());
  const std::uint64_t on_hub = store->device(a.enrollment.device_id)->acked_seq;
  // The device comes back from the backup and records more than the hub has seen of it.
  a.in.reset();
  std::filesystem::remove_all(data);
  std::filesystem::copy(backup, data, std::filesystem::copy_options::recursive);
  Result<std::unique_ptr<Inspection>> restored = Inspection::open(data, &clock);
  REQUIRE(restored.ok());
  a.in = std::move(restored.value());
  while (a.engine().stats()->last_own_seq <= on_hub)
    REQUIRE(a.in->set_answer(id.value(), "library_books", "7").ok());
  Status s = run(a, *store);
  CHECK(s.code() == Code::kRejected);
  CHECK_THAT(s.message(), Catch::Contains("restored from an older copy"));
  CHECK(store->device(a.enrollment.device_id)->acked_seq ==
        on_hub);  // nothing skipped, nothing taken
}

TEST_CASE_METHOD(test::Deployment, "a refusal's reason reaches the device though its ack was lost",
                 "[transport][session]") {
  test::TestDevice a = device("I0011");
  REQUIRE(run(a, *store).ok());
  Result<std::string> id = a.in->start_visit(test::kSharedSchool, "school-conditions");
  REQUIRE(id.ok());
  // An op the hub refuses (the template has no such item), written past the device's checks.
  const std::string key = "visit/" + std::string(test::kSharedSchool) + "/" + id.value();
  REQUIRE(a.engine().write(Write{key, "a.no_such_item", Policy::kLww, Value::integer(1), 1}).ok());
  // Hello, welcome, push: the hub stores the push and its refusal; the ack is lost on the way.
  CHECK(run(a, *store, 3).code() == Code::kUnavailable);
  CHECK(a.engine().counter(session::kAckedCounter).value() == 0);
  CHECK(visit_sync_states(a.engine())->at(id.value()).last_sent_ms == 0);
  SyncReport report;
  REQUIRE(run(a, *store, 1'000'000, &report).ok());
  CHECK(report.pushed == 0);  // nothing is sent again
  Result<std::vector<std::pair<std::uint64_t, std::string>>> refused = refused_ops(a.engine());
  REQUIRE(refused.ok());
  REQUIRE(refused->size() == 1);
  CHECK(refused->front().first == a.engine().stats()->last_own_seq);
  CHECK_THAT(refused->front().second, Catch::Contains("no item 'no_such_item'"));
  // The visit's own state says it: sent (the welcome told of the lost ack), and refused.
  Result<std::map<std::string, VisitSync>> states = visit_sync_states(a.engine());
  REQUIRE(states.ok());
  const VisitSync& v = states->at(id.value());
  CHECK(v.unacked == 0);
  CHECK(v.last_sent_ms == test::kToday);
  CHECK(v.last_received_ms == 0);
  REQUIRE(v.refused.size() == 1);
  CHECK(v.refused.front() == refused->front());
}

TEST_CASE_METHOD(test::Deployment,
                 "a busy hub's refusal is a failure to retry, with the hub's words and its wait",
                 "[transport][session]") {
  test::TestDevice a = device("I0011");
  SyncOptions o;
  session::DeviceSession dev(a.engine(), o);
  REQUIRE(dev.start().ok());
  wire::Refused busy;
  busy.code = static_cast<std::int32_t>(Code::kUnavailable);
  busy.reason = wire::busy_reason(7);
  Result<std::vector<wire::Frame>> r = dev.on_frame(wire::encode(busy));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message() == "the hub is busy, retry in 7 s");
  CHECK(hub_busy_retry(r.status()) == std::chrono::seconds(7));
  CHECK(dev.done());
  // Other failures carry no wait, even with the same words under another code.
  CHECK_FALSE(hub_busy_retry(Status::unavailable("connecting to the hub: refused")));
  CHECK_FALSE(hub_busy_retry(Status::corrupt("the hub is busy, retry in 7 s")));
}
