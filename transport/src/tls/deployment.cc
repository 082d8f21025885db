#include <visitsync/transport/deployment.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tls/certs.h"

namespace vs {
namespace {

namespace fs = std::filesystem;

Result<std::string> read_small(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec) return Status::invalid_input(p.string() + ": " + ec.message());
  if (size > tls::kMaxPemBytes * 2) return Status::invalid_input(p.string() + ": too large");
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status::io("cannot read " + p.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

Status create_hub_tls(const std::string& data_dir, const std::string& host) {
  const fs::path dir = fs::path(data_dir) / "tls";
  if (fs::exists(dir / "ca.pem")) return Status::invalid_input(dir.string() + " holds a deployment CA already");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::io("cannot create " + dir.string() + ": " + ec.message());
  Result<tls::Credentials> ca = tls::make_ca("visitsync deployment CA");
  if (!ca.ok()) return ca.status();
  Result<tls::Credentials> hub = tls::issue_hub_cert(ca.value(), host);
  if (!hub.ok()) return hub.status();
  for (const auto& [name, content] : {std::pair{"ca.key", ca->key_pem}, std::pair{"ca.pem", ca->cert_pem},
                                      std::pair{"hub.key", hub->key_pem}, std::pair{"hub.pem", hub->cert_pem}}) {
    if (Status s = tls::write_private_file((dir / name).string(), content); !s.ok()) return s;
  }
  return Status();
}

Result<HubTls> load_hub_tls(const std::string& data_dir) {
  const fs::path dir = fs::path(data_dir) / "tls";
  HubTls t;
  for (const auto& [name, out] : {std::pair{"ca.pem", &t.ca_pem}, std::pair{"hub.pem", &t.cert_pem},
                                  std::pair{"hub.key", &t.key_pem}}) {
    Result<std::string> text = read_small(dir / name);
    if (!text.ok()) return text.status().annotate("the hub's TLS files (run visitsync-admin init)");
    *out = std::move(text.value());
  }
  return t;
}

Result<Enrollment> make_enrollment(const std::string& data_dir, const DeviceRecord& device,
                                   const std::string& hub_host, std::uint16_t hub_port) {
  const fs::path dir = fs::path(data_dir) / "tls";
  tls::Credentials ca;
  for (const auto& [name, out] : {std::pair{"ca.pem", &ca.cert_pem}, std::pair{"ca.key", &ca.key_pem}}) {
    Result<std::string> text = read_small(dir / name);
    if (!text.ok()) return text.status().annotate("the deployment CA");
    *out = std::move(text.value());
  }
  Result<tls::Credentials> cert = tls::issue_device_cert(ca, device.device_id);
  if (!cert.ok()) return cert.status();
  Enrollment e;
  e.device_id = device.device_id;
  e.inspector_id = device.inspector_id;
  e.role = std::string(role_name(device.role));
  e.hub_host = hub_host;
  e.hub_port = hub_port;
  e.ca_pem = ca.cert_pem;
  e.cert_pem = cert->cert_pem;
  e.key_pem = cert->key_pem;
  return e;
}

Status write_enrollment_file(const std::string& path, const Enrollment& e) {
  return tls::write_private_file(path, enrollment_json(e));
}

Result<Enrollment> read_enrollment_file(const std::string& path) {
  Result<std::string> text = read_small(path);
  if (!text.ok()) return text.status();
  Result<Enrollment> e = parse_enrollment(text.value());
  if (!e.ok()) return e.status().annotate(path);
  return e;
}

}  // namespace vs
