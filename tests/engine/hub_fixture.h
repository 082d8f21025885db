// A hub store with the sample reference data and the sample templates, and devices enrolled at
// it, driven without a network (tests/engine/hub_*_test.cc).
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include <visitsync/hub_store.h>
#include <visitsync/inspection.h>

#include "support/test_support.h"

namespace vs::test {

constexpr const char* kSchool = "S00011";  // I0011 and I0021, 代县 (supervisor I0001)

struct HubFixture {
  test::TempDir dir;
  test::ManualClock clock{test::kToday};
  std::unique_ptr<HubStore> hub;

  HubFixture() {
    {
      Result<std::unique_ptr<Inspection>> h =
          Inspection::create(dir.file("hub"), "hub", "hub", "admin", Role::kAdmin, &clock);
      REQUIRE(h.ok());
      for (const char* kind : {"schools", "inspectors", "assignments"}) {
        REQUIRE(h.value()
                    ->import_reference(*parse_reference_kind(kind),
                                       test::slurp(test::sample_dir() + "/" + kind + ".csv"))
                    .ok());
      }
      for (const char* t :
           {"school-conditions", "campus-safety", "teaching-practice", "rural-support"}) {
        REQUIRE(h.value()
                    ->publish_template(test::slurp(test::templates_dir() + "/" + t + ".json"))
                    .ok());
      }
    }
    reopen_hub();
  }

  struct Device {
    DeviceRecord record;
    std::unique_ptr<Inspection> in;
    std::string cursor;
  };

  Device enroll(const std::string& inspector) {
    Result<DeviceRecord> d = hub->enroll_device(inspector);
    REQUIRE(d.ok());
    Result<std::unique_ptr<Inspection>> in = Inspection::create(
        dir.file(d->device_id), d->device_id, "enrolled", inspector, d->role, &clock);
    REQUIRE(in.ok());
    return Device{d.value(), std::move(in.value()), ""};
  }

  std::size_t largest_pull = 0;  // the most ops one pull() response held
  // Pulls until the hub says there is no more, `max_ops` at a time; returns how many ops came.
  std::size_t pull(Device& d, std::size_t max_ops = 5000) {
    std::size_t total = 0;
    for (int round = 0; round < 10'000; ++round) {
      Result<PullResult> p = hub->pull(d.record.device_id, d.cursor, max_ops);
      INFO(p.status().to_string());
      REQUIRE(p.ok());
      // More than max_ops only as one log row's run: ops of one device on one record.
      largest_pull = std::max(largest_pull, p->ops.size());
      for (const Op& op : p->ops) {
        if (p->ops.size() <= max_ops) break;
        CHECK(op.id.device == p->ops.front().id.device);
        CHECK(op.record == p->ops.front().record);
      }
      Result<ApplyReport> r = d.in->engine().apply_remote(p->ops, std::nullopt);
      REQUIRE(r.ok());
      REQUIRE(r->rejected.empty());
      total += p->ops.size();
      d.cursor = p->next_cursor;
      if (!p->more) return total;
    }
    FAIL("pull did not finish");
    return total;
  }

  // Starts a visit of `tmpl` at `school` on the device; returns its id.
  std::string start(Device& d, const char* tmpl = "school-conditions",
                    const char* school = kSchool) {
    Result<std::string> id = d.in->start_visit(school, tmpl);
    INFO(id.status().to_string());
    REQUIRE(id.ok());
    return id.value();
  }

  Result<PushResult> push(Device& d) {
    Result<std::uint64_t> acked = d.in->engine().counter("push.acked");
    REQUIRE(acked.ok());
    Result<std::vector<Op>> ops = d.in->engine().ops_after(acked.value(), 100'000);
    REQUIRE(ops.ok());
    Result<PushResult> r = hub->push(d.record.device_id, ops.value());
    if (r.ok()) REQUIRE(d.in->engine().set_counter("push.acked", r->acked_seq).ok());
    return r;
  }

  // Closes the hub and copies its folder to `to`; restore() puts such a copy back. Reopens it.
  void copy_hub(const std::string& to) {
    hub.reset();  // closed, so the copy is the whole store
    std::filesystem::copy(dir.file("hub"), to, std::filesystem::copy_options::recursive);
    reopen_hub();
  }
  void restore_hub(const std::string& from) {
    hub.reset();
    std::filesystem::remove_all(dir.file("hub"));
    std::filesystem::copy(from, dir.file("hub"), std::filesystem::copy_options::recursive);
    reopen_hub();
  }
  void reopen_hub() {
    Result<std::unique_ptr<HubStore>> opened = HubStore::open(dir.file("hub"), &clock);
    INFO(opened.status().to_string());
    REQUIRE(opened.ok());
    hub = std::move(opened.value());
  }
  // What a device does at its next hello to a restored hub: takes the hub's acknowledgement.
  void greet(Device& d) {
    Result<HelloResult> hello =
        hub->hello(d.record.device_id, 0, d.in->engine().stats()->last_own_seq,
                   d.in->engine().counter("push.acked").value());
    REQUIRE(hello.ok());
    REQUIRE(d.in->engine().set_counter("push.acked", hello->acked_seq).ok());
  }

  std::set<std::string> scopes_on(Engine& e) {
    std::set<std::string> out;
    Result<LogSlice> all = e.log_after(0, 10'000'000);
    REQUIRE(all.ok());
    for (const Op& op : all->ops) out.insert(scope_of_record(op.record));
    return out;
  }
};

// I0011 and I0021, who both inspect kSchool, each with a device that has pulled its scope.
struct TwoInspectors : HubFixture {
  Device a = enroll("I0011");
  Device b = enroll("I0021");
  TwoInspectors() {
    pull(a);
    pull(b);
  }
};

}  // namespace vs::test
