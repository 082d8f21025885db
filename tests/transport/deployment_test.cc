// tls/deployment.cc and tls/enrollment.cc: the CA in a folder of its own, the hub's tls folder
// without the CA's key, and enrollments signed from the CA folder (deployment.h).
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <openssl/x509.h>

#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>

#include "support/test_support.h"
#include "tls/certs.h"

using namespace vs;
namespace fs = std::filesystem;

namespace {

// Whether `cert_pem` carries a signature made by the key of `ca_pem`.
bool signed_by(const std::string& cert_pem, const std::string& ca_pem) {
  Result<tls::X509Ptr> cert = tls::parse_certificate_pem(cert_pem);
  Result<tls::X509Ptr> ca = tls::parse_certificate_pem(ca_pem);
  REQUIRE(cert.ok());
  REQUIRE(ca.ok());
  return X509_verify(cert->get(), X509_get0_pubkey(ca->get())) == 1;
}

const DeviceRecord kDevice{"d-I0011-abc123", "I0011", Role::kInspector, false, 0};

}  // namespace

TEST_CASE("default_ca_dir is a sibling of the hub's data folder", "[transport][deployment]") {
  CHECK(default_ca_dir("/srv/visitsync/hub").value() == "/srv/visitsync/hub-ca");
  CHECK(default_ca_dir("/srv/visitsync/hub/").value() == "/srv/visitsync/hub-ca");
  CHECK(default_ca_dir("/srv/hub/./").value() == "/srv/hub-ca");
  CHECK(default_ca_dir("relative").value() == (fs::current_path() / "relative-ca").string());
  for (const char* bad : {"", "/", "/.."}) {
    INFO("'" << bad << "'");
    CHECK(default_ca_dir(bad).status().code() == Code::kInvalidInput);
  }
}

TEST_CASE("create_hub_tls writes the CA's key to the CA folder and nowhere else",
          "[transport][deployment]") {
  test::TempDir dir;
  const std::string hub = dir.file("hub");
  const std::string ca = dir.file("hub-ca");
  fs::create_directories(hub);
  REQUIRE(create_hub_tls(hub, ca, "127.0.0.1").ok());
  CHECK_FALSE(fs::exists(hub + "/tls/ca.key"));
  CHECK(fs::exists(ca + "/ca.key"));
  CHECK(fs::status(ca).permissions() == fs::perms::owner_all);
  CHECK(fs::status(hub + "/tls").permissions() == fs::perms::owner_all);

  Result<HubTls> tls = load_hub_tls(hub);
  REQUIRE(tls.ok());
  Result<DeploymentCa> loaded = load_deployment_ca(ca);
  REQUIRE(loaded.ok());
  CHECK(tls->ca_pem == loaded->cert_pem);
  CHECK(signed_by(tls->cert_pem, loaded->cert_pem));
  CHECK(check_same_ca(loaded.value(), tls->ca_pem, "the hub").ok());

  Result<Enrollment> e = make_enrollment(loaded.value(), kDevice, "127.0.0.1", 7000);
  REQUIRE(e.ok());
  CHECK(signed_by(e->cert_pem, tls->ca_pem));
  CHECK(tls::common_name(e->cert_pem).value() == kDevice.device_id);

  SECTION("a second CA in the same folder, or a hub folder made already, is refused") {
    CHECK(create_hub_tls(dir.file("hub2"), ca, "127.0.0.1").code() == Code::kInvalidInput);
    CHECK_FALSE(fs::exists(dir.file("hub2/tls")));
    CHECK(create_hub_tls(hub, dir.file("ca2"), "127.0.0.1").code() == Code::kInvalidInput);
    CHECK_FALSE(fs::exists(dir.file("ca2")));
  }
  SECTION("a CA key planted in tls/ stops load_hub_tls, naming the file and where it goes") {
    fs::copy_file(ca + "/ca.key", hub + "/tls/ca.key");
    Result<HubTls> refused = load_hub_tls(hub);
    CHECK(refused.status().code() == Code::kInvalidInput);
    CHECK_THAT(refused.status().message(), Catch::Contains(hub + "/tls/ca.key") &&
                                               Catch::Contains(ca + "/ca.key exists already"));
    fs::remove_all(ca);  // an older deployment: the key only in tls/
    CHECK_THAT(check_no_ca_key(hub).message(),
               Catch::Contains(hub + "/tls/ca.key") && Catch::Contains("mkdir -m 700 " + ca));
  }
  SECTION("so does any other private key there, but hub.key") {
    std::ofstream(hub + "/tls/spare.txt") << "notes\n" << test::slurp(ca + "/ca.key");
    CHECK_THAT(check_no_ca_key(hub).message(), Catch::Contains(hub + "/tls/spare.txt"));
  }
  SECTION("another deployment's CA signs nothing for this hub") {
    REQUIRE(create_hub_tls(dir.file("other"), dir.file("other-ca"), "127.0.0.1").ok());
    Result<DeploymentCa> other = load_deployment_ca(dir.file("other-ca"));
    REQUIRE(other.ok());
    Status s = check_same_ca(other.value(), tls->ca_pem, "the hub");
    CHECK(s.code() == Code::kInvalidInput);
    CHECK_THAT(s.message(), Catch::Contains("another deployment's CA"));
    Enrollment request = e.value();
    request.cert_pem.clear();
    request.key_pem.clear();
    CHECK(sign_enrollment_request(other.value(), request).status().code() == Code::kInvalidInput);
    CHECK(sign_enrollment_request(loaded.value(), request).ok());
  }
}

TEST_CASE("create_hub_tls refuses a CA folder inside the hub's, and a bad host, leaving nothing",
          "[transport][deployment]") {
  test::TempDir dir;
  const std::string hub = dir.file("hub");
  fs::create_directories(hub);
  for (const std::string& ca :
       {hub, hub + "/tls", hub + "/ca/", dir.path().string(), std::string()}) {
    INFO("'" << ca << "'");
    CHECK(create_hub_tls(hub, ca, "127.0.0.1").code() == Code::kInvalidInput);
  }
  CHECK(create_hub_tls(hub, dir.file("hub-ca"), "not a host").code() == Code::kInvalidInput);
  CHECK_FALSE(fs::exists(dir.file("hub-ca")));
  CHECK(fs::is_empty(hub));
}

TEST_CASE("load_deployment_ca refuses a folder that is not a matching CA",
          "[transport][deployment]") {
  test::TempDir dir;
  REQUIRE(create_hub_tls(dir.file("hub"), dir.file("ca"), "127.0.0.1").ok());
  REQUIRE(create_hub_tls(dir.file("hub2"), dir.file("ca2"), "127.0.0.1").ok());
  auto message = [](const std::string& ca) {
    Result<DeploymentCa> r = load_deployment_ca(ca);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
    return r.status().message();
  };
  CHECK_THAT(message(dir.file("nowhere")), Catch::Contains("is not a folder"));
  CHECK_THAT(message(dir.file("hub")), Catch::Contains("holds no ca.pem"));
  fs::create_directories(dir.file("mixed"));
  fs::copy_file(dir.file("ca/ca.pem"), dir.file("mixed/ca.pem"));
  CHECK_THAT(message(dir.file("mixed")), Catch::Contains("holds no ca.key"));
  fs::copy_file(dir.file("ca2/ca.key"), dir.file("mixed/ca.key"));
  CHECK_THAT(message(dir.file("mixed")), Catch::Contains("is not the key of"));
  // The hub's own certificate and key are a matching pair, but not a CA.
  fs::create_directories(dir.file("leaf"));
  fs::copy_file(dir.file("hub/tls/hub.pem"), dir.file("leaf/ca.pem"));
  fs::copy_file(dir.file("hub/tls/hub.key"), dir.file("leaf/ca.key"));
  CHECK_THAT(message(dir.file("leaf")), Catch::Contains("not a certificate authority"));
}

namespace {

// kDevice's enrollment to a hub at `host`:7000, with placeholder PEM texts.
Enrollment placeholder_enrollment(const std::string& host) {
  Enrollment e;
  e.device_id = kDevice.device_id;
  e.inspector_id = "I0011";
  e.role = "inspector";
  e.hub_host = host;
  e.hub_port = 7000;
  e.ca_pem = "-----BEGIN CERTIFICATE-----\n...\n";
  e.cert_pem = "pem";
  e.key_pem = "-----BEGIN PRIVATE KEY-----\nsecret\n";
  return e;
}

}  // namespace

TEST_CASE("an enrollment request carries everything but a key, and parses back",
          "[transport][deployment]") {
  const Enrollment e = placeholder_enrollment("hub.example.org");
  const std::string json = enrollment_request_json(e);
  CHECK_THAT(json, !Catch::Contains("PRIVATE KEY"));
  Result<Enrollment> back = parse_enrollment_request(json);
  REQUIRE(back.ok());
  CHECK(back->device_id == e.device_id);
  CHECK(back->hub_host == e.hub_host);
  CHECK(back->hub_port == 7000);
  CHECK(back->ca_pem == e.ca_pem);
  CHECK(back->key_pem.empty());

  for (const std::string& bad :
       {std::string("{}"), std::string("not json"),
        std::string(R"({"format":"visitsync-enrollment-request-1","device_id":"d"})"),
        enrollment_json(e), json.substr(0, json.rfind('}')) + R"(,"key_pem":"x"})",
        std::string(json).replace(json.find("7000"), 4, "70000")}) {
    INFO(bad);
    CHECK(parse_enrollment_request(bad).status().code() == Code::kInvalidInput);
  }
}

TEST_CASE("an enrollment file or request of any shape is refused with a reason, never thrown",
          "[transport][deployment]") {
  const std::string good = enrollment_json(placeholder_enrollment("127.0.0.1"));
  REQUIRE(parse_enrollment(good).ok());
  auto with = [&](const std::string& key, const std::string& value) {
    nlohmann::json j = nlohmann::json::parse(good);
    j[key] = nlohmann::json::parse(value);
    return j.dump();
  };
  // Each was a raw nlohmann exception ("[json.exception.type_error.302] ...") or a crash.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {with("format", "1"), "not a visitsync enrollment file"},
      {with("format", "null"), "not a visitsync enrollment file"},
      {with("device_id", "[1]"), "enrollment file: missing device_id"},
      {with("hub_port", "\"7000\""), "enrollment file: missing or bad hub_port"},
      {"[1]", "not a visitsync enrollment file"},
      {std::string(100'000, '[') + std::string(100'000, ']'),
       "enrollment file: 200000 bytes, at most 65536 allowed"},
      {std::string(1000, '['), "enrollment file: nested deeper than 64 levels at byte 65"},
      {"{\"format\": ", "enrollment file: not valid JSON at byte 12"},
  };
  for (const auto& [text, message] : cases) {
    INFO(text.substr(0, 80));
    Result<Enrollment> r = parse_enrollment(text);
    CHECK(r.status().code() == Code::kInvalidInput);
    CHECK(r.status().message() == message);
    CHECK(parse_enrollment_request(text).status().code() == Code::kInvalidInput);
  }
}

TEST_CASE("an enrollment file is checked whole when it is read: keys, CA, device and names",
          "[transport][deployment][input]") {
  // Each was accepted by init --enroll and failed only at the first sync (a foreign CA as
  // "Connection refused", exit 3), or stored names no hub issues.
  test::TempDir dir;
  auto make_ca = [&](const std::string& name) {
    REQUIRE(create_hub_tls(dir.file(name), dir.file(name + "-ca"), "127.0.0.1").ok());
    Result<DeploymentCa> ca = load_deployment_ca(dir.file(name + "-ca"));
    REQUIRE(ca.ok());
    return ca.value();
  };
  const DeploymentCa ours = make_ca("hub");
  const DeploymentCa theirs = make_ca("other");
  const Enrollment good = make_enrollment(ours, kDevice, "127.0.0.1", 7000).value();
  const Enrollment foreign = make_enrollment(theirs, kDevice, "127.0.0.1", 7000).value();
  const DeviceRecord sibling{"d-I0011-def456", "I0011", Role::kInspector, false, 0};
  const Enrollment other_device = make_enrollment(ours, sibling, "127.0.0.1", 7000).value();
  const std::string file = dir.file("device.json");
  auto read_back = [&](Enrollment e) {
    REQUIRE(write_enrollment_file(file, e).ok());
    return read_enrollment_file(file).status();
  };
  CHECK(read_back(good).ok());
  auto with = [&](auto change) {
    Enrollment e = good;
    change(e);
    return e;
  };
  const std::vector<std::pair<Enrollment, std::string>> cases = {
      {with([&](Enrollment& e) { e.key_pem = other_device.key_pem; }),
       "key_pem: not the key of cert_pem"},
      {with([&](Enrollment& e) { e.ca_pem = foreign.ca_pem; }),
       "cert_pem: not signed by the CA in ca_pem"},
      {with([&](Enrollment& e) {
         e.cert_pem = other_device.cert_pem;
         e.key_pem = other_device.key_pem;
       }),
       "cert_pem: made for device d-I0011-def456, not d-I0011-abc123"},
      {with([&](Enrollment& e) { e.cert_pem = "-----BEGIN CERTIFICATE-----\ngarbage\n"; }),
       "cert_pem"},
      {with([&](Enrollment& e) { e.ca_pem = good.cert_pem; }), "not a certificate authority"},
      {with([&](Enrollment& e) { e.inspector_id = "I0011\n"; }), "inspector_id is not"},
      {with([&](Enrollment& e) { e.inspector_id = "../I0011"; }), "inspector_id is not"},
      {with([&](Enrollment& e) { e.inspector_id = "\x1b[31mI0011"; }), "inspector_id is not"},
      {with([&](Enrollment& e) { e.inspector_id = std::string(10'000, 'I'); }),
       "inspector_id is not"},
      {with([&](Enrollment& e) { e.device_id = "d-I0021-abc123"; }),
       "device_id is not a device id of inspector I0011"},
      {with([&](Enrollment& e) { e.device_id = "../../etc"; }), "device_id is not"},
      {with([&](Enrollment& e) { e.hub_host = "hub\nevil"; }), "hub_host is neither"},
      {with([&](Enrollment& e) { e.hub_host = "../hub"; }), "hub_host is neither"},
  };
  for (const auto& [e, message] : cases) {
    const Status s = read_back(e);
    INFO(s.message());
    CHECK(s.code() == Code::kInvalidInput);
    CHECK_THAT(s.message(), Catch::Contains(message) && Catch::StartsWith(file + ": "));
    CHECK(s.message().size() < 400);
  }
}
