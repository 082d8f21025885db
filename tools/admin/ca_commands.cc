#include "ca_commands.h"

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include <visitsync/hub_store.h>
#include <visitsync/inspection.h>
#include <visitsync/transport/deployment.h>

namespace vs::admin {
namespace {

namespace fs = std::filesystem;
using cli::Args;

void print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// A required option naming a file or folder: present and not empty.
Result<std::string> need_path(const Args& a, const std::string& option) {
  Result<std::string> v = a.need(option);
  if (v.ok() && v->empty()) return Status::invalid_input("--" + option + ": empty");
  return v;
}

// The CA folder: --ca when given, else the sibling of the hub's data folder.
Result<std::string> ca_folder(const Args& a, const std::string& data_dir) {
  if (std::optional<std::string> ca = a.get("ca")) {
    if (ca->empty()) return Status::invalid_input("--ca: empty");
    return *ca;
  }
  Result<std::string> dir = default_ca_dir(data_dir);
  if (!dir.ok()) return dir.status().annotated("--data (give --ca)");
  return dir;
}

// A file the command will write: its folder must exist, and it must not be a folder itself.
Status check_out(const std::string& option, const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    return Status::invalid_input("--" + option + ": " + path + " is a folder");
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    return Status::invalid_input("--" + option + ": folder " + parent.string() + " does not exist");
  }
  return Status();
}

// What enroll-device and enroll-request share: the arguments, and the hub's store, address and
// CA certificate, all checked before anything is written.
struct EnrollSetup {
  std::string inspector;
  std::string out;
  std::unique_ptr<HubStore> hub;
  std::pair<std::string, std::uint16_t> address;
  std::string hub_ca_pem;
};

Result<EnrollSetup> enroll_setup(const Args& a) {
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::string> data = need_path(a, "data");
  Result<std::string> inspector = a.need("inspector");
  Result<std::string> out = need_path(a, "out");
  for (const auto* r : {&data, &inspector, &out})
    if (!r->ok()) return r->status();
  if (Status s = check_out("out", out.value()); !s.ok()) return s;
  EnrollSetup e;
  e.inspector = inspector.value();
  e.out = out.value();
  Result<std::unique_ptr<HubStore>> hub = HubStore::open(data.value());
  if (!hub.ok()) return hub.status().annotated("--data");
  e.hub = std::move(hub.value());
  Result<std::string> address = e.hub->engine().setting("hub_address");
  if (!address.ok()) return address.status();
  Result<std::pair<std::string, std::uint16_t>> hp = parse_host_port(address.value());
  if (!hp.ok()) return hp.status().annotated("the hub's recorded address");
  e.address = hp.value();
  Result<HubTls> tls = load_hub_tls(data.value());
  if (!tls.ok()) return tls.status().annotated("--data");
  e.hub_ca_pem = tls->ca_pem;
  return e;
}

// Removes the CA a failed init made: the CA folder if init created it, otherwise the CA files
// in it (check_new_ca_dir() made sure there were none before).
void remove_new_ca(const std::string& ca, bool ca_existed) {
  std::error_code ec;
  if (!ca_existed) {
    fs::remove_all(ca, ec);
    return;
  }
  for (const char* name : {"ca.key", "ca.pem"}) fs::remove(fs::path(ca) / name, ec);
}

}  // namespace

Status cmd_init(const Args& a) {
  Result<std::string> dir = need_path(a, "data");
  Result<std::string> address = a.need("hub-address");
  if (!dir.ok()) return dir.status();
  if (!address.ok()) return address.status();
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::pair<std::string, std::uint16_t>> hp = parse_host_port(address.value());
  if (!hp.ok()) return hp.status().annotated("--hub-address");
  if (hp->second == 0)
    return Status::invalid_input("--hub-address: the port must not be 0 (devices need it)");
  Result<std::string> ca = ca_folder(a, dir.value());
  if (!ca.ok()) return ca.status();
  if (Status s = check_new_ca_dir(dir.value(), ca.value()); !s.ok()) return s.annotated("--ca");
  std::error_code ec;
  const bool existed = fs::exists(dir.value(), ec);
  const bool ca_existed = fs::exists(ca.value(), ec);
  std::random_device rd;
  const std::string hub_id = "hub-" + std::to_string(rd() % 1000000);
  Result<std::unique_ptr<Inspection>> in =
      Inspection::create(dir.value(), hub_id, "hub", "admin", Role::kAdmin);
  if (!in.ok()) return in.status();
  Status s = in.value()->engine().set_setting("hub_address", address.value());
  in.value().reset();
  bool tls_made = false;
  if (s.ok()) {
    s = create_hub_tls(dir.value(), ca.value(), hp->first);
    tls_made = s.ok();
  }
  if (s.ok()) s = HubStore::open(dir.value()).status();
  if (!s.ok()) {
    if (!existed) fs::remove_all(dir.value(), ec);
    if (tls_made) remove_new_ca(ca.value(), ca_existed);
    return s;
  }
  print("initialized hub " + hub_id + " in " + dir.value() + " for " + address.value() +
        ": the hub's certificate in " + (fs::path(dir.value()) / "tls").string() +
        "; the deployment CA in " + ca.value() +
        " (its private key: keep that folder off the hub's machine, see tools/COMMANDS.md)\n");
  return Status();
}

Status cmd_enroll(const Args& a) {
  Result<EnrollSetup> e = enroll_setup(a);
  if (!e.ok()) return e.status();
  Result<std::string> ca_dir = ca_folder(a, *a.get("data"));
  if (!ca_dir.ok()) return ca_dir.status();
  Result<DeploymentCa> ca = load_deployment_ca(ca_dir.value());
  if (!ca.ok()) return ca.status().annotated("--ca");
  if (Status s = check_same_ca(ca.value(), e->hub_ca_pem, "the hub in " + *a.get("data")); !s.ok())
    return s.annotated("--ca");
  // Enrolled only once the file is written: a failed write leaves no device behind.
  HubStore& store = *e->hub;
  return store.engine().transaction([&]() -> Status {
    Result<DeviceRecord> d = store.enroll_device(e->inspector);
    if (!d.ok()) return d.status().annotated("--inspector");
    Result<Enrollment> made =
        make_enrollment(ca.value(), d.value(), e->address.first, e->address.second);
    if (!made.ok()) return made.status();
    if (Status w = write_enrollment_file(e->out, made.value()); !w.ok()) return w;
    print(d->device_id + "\n");
    return Status();
  });
}

Status cmd_enroll_request(const Args& a) {
  Result<EnrollSetup> e = enroll_setup(a);
  if (!e.ok()) return e.status();
  HubStore& store = *e->hub;
  return store.engine().transaction([&]() -> Status {
    Result<DeviceRecord> d = store.enroll_device(e->inspector);
    if (!d.ok()) return d.status().annotated("--inspector");
    Enrollment request;
    request.device_id = d->device_id;
    request.inspector_id = d->inspector_id;
    request.role = std::string(role_name(d->role));
    request.hub_host = e->address.first;
    request.hub_port = e->address.second;
    request.ca_pem = e->hub_ca_pem;
    if (Status w = write_enrollment_request(e->out, request); !w.ok()) return w;
    print(d->device_id + "\n");
    return Status();
  });
}

Status cmd_enroll_sign(const Args& a) {
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::string> ca_dir = need_path(a, "ca");
  Result<std::string> request_path = need_path(a, "request");
  Result<std::string> out = need_path(a, "out");
  for (const auto* r : {&ca_dir, &request_path, &out})
    if (!r->ok()) return r->status();
  if (Status s = check_out("out", out.value()); !s.ok()) return s;
  Result<Enrollment> request = read_enrollment_request(request_path.value());
  if (!request.ok()) return request.status().annotated("--request");
  Result<DeploymentCa> ca = load_deployment_ca(ca_dir.value());
  if (!ca.ok()) return ca.status().annotated("--ca");
  Result<Enrollment> e = sign_enrollment_request(ca.value(), request.value());
  if (!e.ok()) return e.status().annotated("--ca");
  if (Status w = write_enrollment_file(out.value(), e.value()); !w.ok()) return w;
  print(e->device_id + "\n");
  return Status();
}

}  // namespace vs::admin
