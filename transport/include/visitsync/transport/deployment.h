// A deployment's TLS material: the CA and the hub's certificate kept in the hub's data folder,
// and the enrollment files that carry a device's key and certificate (schema/PROTOCOL.md,
// "Certificates and enrollment").
#pragma once

#include <cstdint>
#include <string>

#include <visitsync/hub_store.h>
#include <visitsync/status.h>
#include <visitsync/transport/client.h>

namespace vs {

struct HubTls {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// Makes the deployment's CA and the hub's certificate for `host` (a DNS name or an IP address)
// in <data_dir>/tls: ca.pem, ca.key, hub.pem, hub.key, the keys readable by their owner only.
// Refused (kInvalidInput) if the folder holds them already: a new CA would orphan every device.
Status create_hub_tls(const std::string& data_dir, const std::string& host);
Result<HubTls> load_hub_tls(const std::string& data_dir);

// An enrollment for an enrolled device: a new key and a certificate for its id, signed by the
// deployment's CA, with the hub's address.
Result<Enrollment> make_enrollment(const std::string& data_dir, const DeviceRecord& device,
                                   const std::string& hub_host, std::uint16_t hub_port);

// Enrollment files hold a private key: written with mode 0600.
Status write_enrollment_file(const std::string& path, const Enrollment& e);
Result<Enrollment> read_enrollment_file(const std::string& path);

}  // namespace vs
