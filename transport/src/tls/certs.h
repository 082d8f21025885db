// The certificate authority of one deployment: its CA, the hub's server certificate and the
// devices' client certificates, as PEM text (schema/PROTOCOL.md, "Certificates and enrollment").
//
// Keys are EC P-256, signatures ECDSA with SHA-256, serials 128 random bits, and every
// certificate starts one hour in the past (clock skew between machines). Private keys are
// unencrypted PKCS#8 PEM: store them with write_private_file(). Every function is thread-safe
// (no shared state); on failure each leaves this thread's OpenSSL error queue empty. PEM inputs
// larger than kMaxPemBytes are refused.
#pragma once

#include <cstddef>
#include <string>

#include <openssl/ssl.h>

#include <visitsync/status.h>

#include "tls/openssl.h"

namespace vs::tls {

inline constexpr std::size_t kMaxPemBytes = std::size_t{64} * 1024;
inline constexpr int kCaValidityYears = 20;
inline constexpr int kLeafValidityYears = 5;

struct Credentials {
  std::string cert_pem;  // one certificate
  std::string key_pem;   // its private key, unencrypted PKCS#8
};

// A new deployment CA: self-signed, basicConstraints CA:TRUE (critical), keyUsage keyCertSign and
// cRLSign (critical), valid for kCaValidityYears. `name` becomes both the CN and the O.
// kInvalidInput: `name` empty, over 64 characters, or holding control characters.
[[nodiscard]] Result<Credentials> make_ca(const std::string& name);

// The hub's server certificate, signed by `ca`: CN = host, subjectAltName = host as a DNS name or
// an IP address (plus DNS:localhost when host is a loopback address, 127.0.0.1 or ::1),
// extendedKeyUsage serverAuth, valid kLeafValidityYears (cut to the CA's own end if sooner).
// kInvalidInput: `ca` unparsable, not a CA, or its key not matching; `host` neither an IP literal
// nor a valid DNS name (letters, digits, '-' and '.', no trailing dot, no brackets or port).
[[nodiscard]] Result<Credentials> issue_hub_cert(const Credentials& ca, const std::string& host);

// A device's client certificate, signed by `ca`: CN = device_id, extendedKeyUsage clientAuth,
// valid kLeafValidityYears (cut to the CA's own end if sooner).
// kInvalidInput: `ca` as for issue_hub_cert; `device_id` empty, over 64 characters or holding
// control characters.
[[nodiscard]] Result<Credentials> issue_device_cert(const Credentials& ca,
                                                    const std::string& device_id);

// The subject CN of the (single) certificate in `cert_pem`, as UTF-8.
// kInvalidInput: unparsable PEM, more than one certificate, no CN, several CNs, or a CN that is
// empty or holds a NUL.
[[nodiscard]] Result<std::string> common_name(const std::string& cert_pem);

// The subject CN of the verified peer certificate of `ssl` (for the hub: the device id).
// Borrows `ssl`; call on the thread that runs the connection, after its handshake succeeded.
// kInvalidInput: `ssl` null or its handshake not finished. kRejected: no peer certificate, a
// failed verification, or a CN as refused by common_name().
[[nodiscard]] Result<std::string> peer_common_name(SSL* ssl);

// Checks a device's credentials as the hub will, before the device ever connects: the CA is a
// CA; the certificate is signed by it, valid now and names `device_id`; the key is the
// certificate's. kInvalidInput names the first that fails.
[[nodiscard]] Status check_device_credentials(const std::string& ca_pem, const Credentials& own,
                                              const std::string& device_id);

// Writes `content` to `path` with mode 0600: a temporary file beside it is created with that mode
// (never widened then narrowed), written, fsync'ed and renamed over `path`, then the folder is
// fsync'ed. Readers see the old file or the new one, never a part. On failure the temporary file
// is removed and `path` is untouched. kInvalidInput: empty path. kIo: the OS refused a step.
[[nodiscard]] Status write_private_file(const std::string& path, const std::string& content);

// --- Helpers shared with context.cc and tests ---

enum class HostKind { kDnsName, kIpAddress, kInvalid };
// What `host` is: an IPv4 or IPv6 literal (as inet_pton parses it: no brackets, no zone), a DNS
// name (labels of letters, digits and inner '-', 1 to 63 bytes each, 253 in all, no trailing
// dot), or neither.
HostKind host_kind(const std::string& host);

// The single certificate in `pem`. kInvalidInput (with the OpenSSL reason) if there is none, it
// is damaged, or more than one follows.
[[nodiscard]] Result<X509Ptr> parse_certificate_pem(const std::string& pem);
// The private key in `pem` (any type OpenSSL reads). kInvalidInput if damaged or encrypted: we
// never prompt for a passphrase.
[[nodiscard]] Result<EvpPkeyPtr> parse_private_key_pem(const std::string& pem);

}  // namespace vs::tls
