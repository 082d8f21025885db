// A deployment's TLS material (schema/PROTOCOL.md, "Certificates and enrollment"). It sits in
// two folders that are kept apart:
// - the CA folder: ca.pem and ca.key, the deployment's certificate authority. Only
//   visitsync-admin reads it, to sign certificates; it may live on another machine or on a
//   removable medium.
// - <hub data>/tls: ca.pem, hub.pem and hub.key, all that the running hub needs. It never holds
//   the CA's private key: load_hub_tls() refuses a folder that does.
// Enrollment files carry a device's key and certificate; enrollment requests carry what the
// hub registered for a device, so that a CA on a machine without the hub's store can sign it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <visitsync/hub_store.h>
#include <visitsync/status.h>
#include <visitsync/transport/client.h>

namespace vs {

struct HubTls {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// The deployment's certificate authority, as its folder holds it.
struct DeploymentCa {
  std::string dir;       // where it was read from (for messages)
  std::string cert_pem;  // ca.pem
  std::string key_pem;   // ca.key
};

// The CA folder visitsync-admin uses when --ca is not given: a sibling of the hub's data folder
// named after it with "-ca" appended (/srv/visitsync/hub -> /srv/visitsync/hub-ca), as an
// absolute path. kInvalidInput when `data_dir` is empty or names no folder ("/").
Result<std::string> default_ca_dir(const std::string& data_dir);

// Whether a new CA may be made in `ca_dir` for the hub in `data_dir`: kInvalidInput (naming the
// folder) when `ca_dir` is empty, is not a folder, already holds ca.pem or ca.key, or is the hub's
// data folder, inside it or around it. Changes nothing.
Status check_new_ca_dir(const std::string& data_dir, const std::string& ca_dir);

// Makes a new deployment CA in `ca_dir` (ca.pem, ca.key) and the hub's certificate for `host` (a
// DNS name or an IP address) in <data_dir>/tls (ca.pem, hub.pem, hub.key). Folders it writes to
// are set to mode 0700 and every file is written with mode 0600. The CA's key is written to
// `ca_dir` only. kInvalidInput as check_new_ca_dir() says, or when <data_dir>/tls holds hub files
// already; kIo when a folder or file cannot be written. On failure, what it wrote is removed.
Status create_hub_tls(const std::string& data_dir, const std::string& ca_dir,
                      const std::string& host);

// kInvalidInput when <data_dir>/tls holds a private key other than hub.key: a ca.key, or any
// other file with a PEM private key in it. The message names the file and says how to move a
// CA key into a CA folder of its own. OK when the folder is missing.
Status check_no_ca_key(const std::string& data_dir);

// What the running hub needs: <data_dir>/tls/ca.pem, hub.pem and hub.key. kInvalidInput when one
// is missing, or as check_no_ca_key() says.
Result<HubTls> load_hub_tls(const std::string& data_dir);

// The CA in `ca_dir`. kInvalidInput (naming the folder) when it is missing, when ca.pem or
// ca.key is missing or unreadable, when ca.pem is not a CA certificate, or when ca.key is not
// its key.
Result<DeploymentCa> load_deployment_ca(const std::string& ca_dir);

// OK when `ca_pem` is the certificate of `ca`; kInvalidInput otherwise. `whose` names where
// `ca_pem` came from in the message ("the hub in /srv/hub").
Status check_same_ca(const DeploymentCa& ca, const std::string& ca_pem, const std::string& whose);

// An enrollment for an enrolled device: a new key and a certificate for its id, signed by the
// deployment's CA, with the hub's address. kInvalidInput when `ca` cannot sign.
Result<Enrollment> make_enrollment(const DeploymentCa& ca, const DeviceRecord& device,
                                   const std::string& hub_host, std::uint16_t hub_port);

// Signs an enrollment request (an Enrollment without cert_pem and key_pem, as
// parse_enrollment_request() returns it): a new key and certificate for its device id.
// kInvalidInput when the request's ca_pem is not `ca`'s certificate (a request of another
// deployment) or `ca` cannot sign.
Result<Enrollment> sign_enrollment_request(const DeploymentCa& ca, const Enrollment& request);

// Enrollment files hold a private key: written with mode 0600.
Status write_enrollment_file(const std::string& path, const Enrollment& e);
// parse_enrollment(), then what the hub would refuse at the first sync: a key that is not the
// certificate's, a certificate of another CA, not valid now, or made for another device.
Result<Enrollment> load_enrollment(std::string_view json);
// load_enrollment() of a file (kInvalidInput names the path).
Result<Enrollment> read_enrollment_file(const std::string& path);

// An enrollment request (format visitsync-enrollment-request-1): the device id, inspector id,
// role, hub address and the hub's CA certificate; never a key. parse refuses (kInvalidInput)
// anything incomplete, and a request that carries a key.
std::string enrollment_request_json(const Enrollment& e);
Result<Enrollment> parse_enrollment_request(std::string_view json);
Status write_enrollment_request(const std::string& path, const Enrollment& e);
Result<Enrollment> read_enrollment_request(const std::string& path);

}  // namespace vs
