// A deployment for transport tests: a hub data folder with the sample reference data and the
// four templates, its TLS material (the CA in a folder of its own, as visitsync-admin init makes
// it), and enrolled devices on a manual clock set inside the assignment period.
#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include <visitsync/hub_store.h>
#include <visitsync/inspection.h>
#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>

#include "support/test_support.h"

namespace vs::test {

// Shared by I0011 and I0021 (代县, supervisor I0001), a junior secondary school.
inline constexpr const char* kSharedSchool = "S00011";

struct TestDevice {
  Enrollment enrollment;
  std::unique_ptr<Inspection> in;
  Engine& engine() { return in->engine(); }
};

class Deployment {
 public:
  explicit Deployment(const std::string& host = "127.0.0.1", std::uint16_t port = 1) : host_(host) {
    hub_dir_ = dir_.file("hub");
    {
      Result<std::unique_ptr<Inspection>> h =
          Inspection::create(hub_dir_, "hub-test", "hub", "admin", Role::kAdmin, &clock);
      REQUIRE(h.ok());
      for (const char* kind : {"schools", "inspectors", "assignments"}) {
        REQUIRE(h.value()
                    ->import_reference(*parse_reference_kind(kind),
                                       slurp(sample_dir() + "/" + kind + ".csv"))
                    .ok());
      }
      for (const char* t :
           {"school-conditions", "campus-safety", "teaching-practice", "rural-support"}) {
        REQUIRE(h.value()->publish_template(slurp(templates_dir() + "/" + t + ".json")).ok());
      }
    }
    REQUIRE(create_hub_tls(hub_dir_, dir_.file("hub-ca"), host).ok());
    Result<DeploymentCa> c = load_deployment_ca(dir_.file("hub-ca"));
    REQUIRE(c.ok());
    ca = c.value();
    Result<std::unique_ptr<HubStore>> s = HubStore::open(hub_dir_, &clock);
    REQUIRE(s.ok());
    store = std::move(s.value());
    Result<HubTls> t = load_hub_tls(hub_dir_);
    REQUIRE(t.ok());
    tls = t.value();
    port_ = port;
  }

  // A second connection to the hub's store, as visitsync-admin would open while the hub runs.
  std::unique_ptr<HubStore> admin() {
    Result<std::unique_ptr<HubStore>> s = HubStore::open(hub_dir_, &clock);
    REQUIRE(s.ok());
    return std::move(s.value());
  }

  TestDevice device(const std::string& inspector, HubStore* via = nullptr) {
    HubStore& s = via != nullptr ? *via : *store;
    Result<DeviceRecord> d = s.enroll_device(inspector);
    REQUIRE(d.ok());
    Result<Enrollment> e = make_enrollment(ca, d.value(), host_, port_);
    REQUIRE(e.ok());
    Result<std::unique_ptr<Inspection>> in = Inspection::create(
        dir_.file(d->device_id), d->device_id, "enrolled", inspector, d->role, &clock);
    REQUIRE(in.ok());
    return TestDevice{e.value(), std::move(in.value())};
  }

  void set_port(std::uint16_t port) { port_ = port; }
  const std::string& hub_dir() const { return hub_dir_; }
  TempDir& dir() { return dir_; }

  TempDir dir_;
  ManualClock clock{kToday};
  std::unique_ptr<HubStore> store;
  HubTls tls;
  DeploymentCa ca;

 private:
  std::string host_;
  std::string hub_dir_;
  std::uint16_t port_ = 1;
};

}  // namespace vs::test
