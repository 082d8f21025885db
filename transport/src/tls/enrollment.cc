// The deployment CA read from its folder, the device certificates it signs, and the files that
// carry enrollments (client.h) and enrollment requests (deployment.h).
#include <filesystem>

#include <nlohmann/json.hpp>
#include <openssl/x509.h>

#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>

#include "domain/model.h"
#include "tls/certs.h"
#include "tls/small_file.h"
#include "util/json.h"

namespace vs {
namespace {

namespace fs = std::filesystem;

constexpr const char* kEnrollmentFormat = "visitsync-enrollment-1";
constexpr const char* kRequestFormat = "visitsync-enrollment-request-1";
// Far above a real file (three PEM blocks, a few ids): about 5 KB.
constexpr std::size_t kMaxEnrollmentBytes = 64u << 10;

// The ids and host of an enrollment, of the form the hub issues them: an inspector id as the
// reference data holds it, the device id "d-<inspector>-<hex>" (HubStore::enroll_device), a
// DNS name or IP address.
Status check_names(const Enrollment& e, const char* what) {
  const std::string w(what);
  if (!domain::valid_ref_id(e.inspector_id))
    return Status::invalid_input(w + ": inspector_id is not an inspector id");
  const std::string prefix = "d-" + e.inspector_id + "-";
  const std::string_view hex =
      std::string_view(e.device_id).substr(std::min(e.device_id.size(), prefix.size()));
  if (e.device_id.rfind(prefix, 0) != 0 || hex.size() < 6 || hex.size() > 16 ||
      hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return Status::invalid_input(w + ": device_id is not a device id of inspector " +
                                 e.inspector_id);
  }
  if (tls::host_kind(e.hub_host) == tls::HostKind::kInvalid)
    return Status::invalid_input(w + ": hub_host is neither a DNS name nor an IP address");
  return Status();
}

// An enrollment file (`format` kEnrollmentFormat: with the device's key and certificate) or
// an enrollment request (kRequestFormat: without them), each field checked.
Result<Enrollment> read_enrollment(std::string_view text, const char* format, const char* what) {
  Result<nlohmann::json> parsed = util::parse_json(text, what, kMaxEnrollmentBytes);
  if (!parsed.ok()) return parsed.status();
  const nlohmann::json& j = parsed.value();
  const std::optional<std::string> found = util::string_member(j, "format");
  const bool request = std::string_view(format) == kRequestFormat;
  if (request && found == kEnrollmentFormat)
    return Status::invalid_input("an enrollment file (signed already), not a request");
  if (found != format) return Status::invalid_input(std::string("not a visitsync ") + what);
  if (request && (j.contains("key_pem") || j.contains("cert_pem")))
    return Status::invalid_input("an enrollment request carries no key or certificate");
  Enrollment e;
  std::vector<std::pair<const char*, std::string*>> fields = {{"device_id", &e.device_id},
                                                              {"inspector_id", &e.inspector_id},
                                                              {"role", &e.role},
                                                              {"hub_host", &e.hub_host},
                                                              {"ca_pem", &e.ca_pem}};
  if (!request) fields.insert(fields.end(), {{"cert_pem", &e.cert_pem}, {"key_pem", &e.key_pem}});
  for (auto [key, out] : fields) {
    std::optional<std::string> v = util::string_member(j, key);
    if (!v || v->empty()) return Status::invalid_input(std::string(what) + ": missing " + key);
    *out = std::move(*v);
  }
  const auto port = j.find("hub_port");
  if (port == j.end() || !port->is_number_unsigned() || port->get<std::uint64_t>() == 0 ||
      port->get<std::uint64_t>() > 65535)
    return Status::invalid_input(std::string(what) + ": missing or bad hub_port");
  e.hub_port = static_cast<std::uint16_t>(port->get<std::uint64_t>());
  if (e.role != "inspector" && e.role != "supervisor")
    return Status::invalid_input(std::string(what) + ": bad role");
  if (Status s = check_names(e, what); !s.ok()) return s;
  return e;
}

// Both certificates parsed, and whether they are the same certificate (compared as DER, so
// that line ends or a copy's trailing newline make no difference).
Result<bool> same_certificate(const std::string& a_pem, const std::string& b_pem) {
  Result<tls::X509Ptr> a = tls::parse_certificate_pem(a_pem);
  if (!a.ok()) return a.status();
  Result<tls::X509Ptr> b = tls::parse_certificate_pem(b_pem);
  if (!b.ok()) return b.status();
  return X509_cmp(a->get(), b->get()) == 0;
}

}  // namespace

std::string enrollment_json(const Enrollment& e) {
  const nlohmann::json j = {{"format", kEnrollmentFormat},
                            {"device_id", e.device_id},
                            {"inspector_id", e.inspector_id},
                            {"role", e.role},
                            {"hub_host", e.hub_host},
                            {"hub_port", e.hub_port},
                            {"ca_pem", e.ca_pem},
                            {"cert_pem", e.cert_pem},
                            {"key_pem", e.key_pem}};
  return j.dump(2) + "\n";
}

Result<DeploymentCa> load_deployment_ca(const std::string& ca_dir) {
  std::error_code ec;
  if (!fs::is_directory(ca_dir, ec)) {
    return Status::invalid_input(ca_dir +
                                 " is not a folder (the deployment CA's folder, made by "
                                 "visitsync-admin init, holds ca.pem and ca.key: mount or copy "
                                 "it, and name it with --ca)");
  }
  DeploymentCa ca;
  ca.dir = ca_dir;
  for (const auto& [name, out] :
       {std::pair{"ca.pem", &ca.cert_pem}, std::pair{"ca.key", &ca.key_pem}}) {
    if (!fs::exists(fs::path(ca_dir) / name, ec)) {
      return Status::invalid_input(ca_dir + " holds no " + name + ": not a deployment CA's folder");
    }
    Result<std::string> text = read_small_file(fs::path(ca_dir) / name);
    if (!text.ok()) return text.status();
    *out = std::move(text.value());
  }
  Result<tls::X509Ptr> cert = tls::parse_certificate_pem(ca.cert_pem);
  if (!cert.ok()) return cert.status().annotated(ca_dir + "/ca.pem");
  if (X509_check_ca(cert->get()) == 0)
    return Status::invalid_input(ca_dir + "/ca.pem is not a certificate authority's certificate");
  Result<tls::EvpPkeyPtr> key = tls::parse_private_key_pem(ca.key_pem);
  if (!key.ok()) return key.status().annotated(ca_dir + "/ca.key");
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    return tls::openssl_error(ca_dir + "/ca.key is not the key of " + ca_dir + "/ca.pem",
                              Code::kInvalidInput);
  }
  return ca;
}

Status check_same_ca(const DeploymentCa& ca, const std::string& ca_pem, const std::string& whose) {
  Result<bool> same = same_certificate(ca.cert_pem, ca_pem);
  if (!same.ok()) return same.status().annotated("the CA certificate of " + whose);
  if (!same.value()) {
    return Status::invalid_input(ca.dir + " holds another deployment's CA: " + whose +
                                 " trusts a different one");
  }
  return Status();
}

Result<Enrollment> sign_enrollment_request(const DeploymentCa& ca, const Enrollment& request) {
  if (Status s = check_same_ca(ca, request.ca_pem, "the request for " + request.device_id); !s.ok())
    return s;
  Result<tls::Credentials> cert =
      tls::issue_device_cert(tls::Credentials{ca.cert_pem, ca.key_pem}, request.device_id);
  if (!cert.ok()) return cert.status().annotated(ca.dir);
  Enrollment e = request;
  e.ca_pem = ca.cert_pem;
  e.cert_pem = cert->cert_pem;
  e.key_pem = cert->key_pem;
  return e;
}

Result<Enrollment> make_enrollment(const DeploymentCa& ca, const DeviceRecord& device,
                                   const std::string& hub_host, std::uint16_t hub_port) {
  Enrollment request;
  request.device_id = device.device_id;
  request.inspector_id = device.inspector_id;
  request.role = std::string(role_name(device.role));
  request.hub_host = hub_host;
  request.hub_port = hub_port;
  request.ca_pem = ca.cert_pem;
  return sign_enrollment_request(ca, request);
}

Status write_enrollment_file(const std::string& path, const Enrollment& e) {
  return tls::write_private_file(path, enrollment_json(e));
}

Result<Enrollment> load_enrollment(std::string_view json) {
  Result<Enrollment> e = parse_enrollment(json);
  if (!e.ok()) return e.status();
  // What the hub would refuse at the first sync, said now: a key of another certificate, a
  // certificate of another CA, expired, or made for another device.
  if (Status s = tls::check_device_credentials(e->ca_pem, {e->cert_pem, e->key_pem}, e->device_id);
      !s.ok())
    return s;
  return e;
}

Result<Enrollment> read_enrollment_file(const std::string& path) {
  Result<std::string> text = read_small_file(path);
  if (!text.ok()) return text.status();
  Result<Enrollment> e = load_enrollment(text.value());
  if (!e.ok()) return e.status().annotate(path);
  return e;
}

std::string enrollment_request_json(const Enrollment& e) {
  const nlohmann::json j = {
      {"format", kRequestFormat}, {"device_id", e.device_id}, {"inspector_id", e.inspector_id},
      {"role", e.role},           {"hub_host", e.hub_host},   {"hub_port", e.hub_port},
      {"ca_pem", e.ca_pem}};
  return j.dump(2) + "\n";
}

Result<Enrollment> parse_enrollment(std::string_view text) {
  return read_enrollment(text, kEnrollmentFormat, "enrollment file");
}

Result<Enrollment> parse_enrollment_request(std::string_view text) {
  return read_enrollment(text, kRequestFormat, "enrollment request");
}

Status write_enrollment_request(const std::string& path, const Enrollment& e) {
  return tls::write_private_file(path, enrollment_request_json(e));
}

Result<Enrollment> read_enrollment_request(const std::string& path) {
  Result<std::string> text = read_small_file(path);
  if (!text.ok()) return text.status();
  Result<Enrollment> e = parse_enrollment_request(text.value());
  if (!e.ok()) return e.status().annotate(path);
  return e;
}

}  // namespace vs
