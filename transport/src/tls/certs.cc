#include "tls/certs.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <string>
#include <system_error>
#include <unistd.h>
#include <utility>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "util/files.h"

namespace vs::tls {
namespace {

constexpr long kSkewSeconds = 3600;
constexpr int kSerialBits = 128;
constexpr std::size_t kMaxNameBytes = 256;  // OpenSSL then enforces RFC 5280's 64 characters
constexpr std::size_t kMaxDnsNameBytes = 253;
constexpr std::size_t kMaxDnsLabelBytes = 63;

int days_in(int years) { return 365 * years + years / 4; }

// Passphrase callback that refuses: OpenSSL's default would prompt on the terminal.
int no_passphrase(char*, int, int, void*) { return 0; }

Result<BioPtr> read_bio(const std::string& pem, const char* what) {
  if (pem.empty()) return Status::invalid_input(std::string(what) + ": empty pem");
  if (pem.size() > kMaxPemBytes) {
    return Status::invalid_input(std::string(what) + ": pem of " + std::to_string(pem.size()) +
                                 " bytes, expected at most " + std::to_string(kMaxPemBytes));
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return openssl_error(std::string(what) + ": reading pem");
  return bio;
}

Status check_name_field(const std::string& value, const char* what) {
  if (value.empty()) return Status::invalid_input(std::string(what) + " is empty");
  if (value.size() > kMaxNameBytes) {
    return Status::invalid_input(std::string(what) + " has " + std::to_string(value.size()) +
                                 " bytes, expected at most 64 characters");
  }
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return Status::invalid_input(std::string(what) + " holds a control character");
    }
  }
  return {};
}

Status add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(value.data());
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, bytes, static_cast<int>(value.size()),
                                 -1, 0) != 1) {
    return openssl_error(std::string("setting ") + field + " to \"" + value + "\"",
                         Code::kInvalidInput);
  }
  return {};
}

Result<EvpPkeyPtr> new_ec_key() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return openssl_error("generating an ec p-256 key");
  return key;
}

Status set_random_serial(X509* cert) {
  BignumPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), kSerialBits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
    return openssl_error("drawing a serial number");
  }
  // RFC 5280 wants a positive serial; zero has odds of 2^-128 but costs one line to exclude.
  if (BN_is_zero(serial.get()) && BN_one(serial.get()) != 1) return openssl_error("serial number");
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return openssl_error("setting the serial number");
  }
  return {};
}

// Version 3, a random serial, names, validity from an hour ago, and the subject's public key.
Result<X509Ptr> new_cert(EVP_PKEY* subject_key, const X509_NAME* subject, const X509_NAME* issuer,
                         int valid_days) {
  X509Ptr cert(X509_new());
  if (!cert) return openssl_error("allocating a certificate");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return openssl_error("setting version");
  if (Status s = set_random_serial(cert.get()); !s.ok()) return s;
  if (X509_set_subject_name(cert.get(), subject) != 1 ||
      X509_set_issuer_name(cert.get(), issuer) != 1) {
    return openssl_error("setting the subject and issuer names");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kSkewSeconds) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), valid_days, 0, nullptr) == nullptr) {
    return openssl_error("setting the validity period");
  }
  if (X509_set_pubkey(cert.get(), subject_key) != 1) return openssl_error("setting the public key");
  return cert;
}

// An extension from OpenSSL's config syntax; only for constant values, never for caller input
// (a comma in a host name would add a name of the caller's choosing).
Status add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return openssl_error(std::string("adding extension ") + OBJ_nid2sn(nid) + " = " + value);
  }
  return {};
}

Status push_general_name(GENERAL_NAMES* names, int type, Asn1StringPtr value) {
  GeneralNamePtr name(GENERAL_NAME_new());
  if (!name) return openssl_error("allocating a subject alternative name");
  GENERAL_NAME_set0_value(name.get(), type, value.release());
  if (sk_GENERAL_NAME_push(names, name.get()) <= 0) {
    return openssl_error("adding a subject alternative name");
  }
  static_cast<void>(name.release());  // now owned by `names`
  return {};
}

Status push_dns_name(GENERAL_NAMES* names, const std::string& host) {
  Asn1StringPtr dns(ASN1_IA5STRING_new());
  if (!dns || ASN1_STRING_set(dns.get(), host.data(), static_cast<int>(host.size())) != 1) {
    return openssl_error("encoding dns name " + host);
  }
  return push_general_name(names, GEN_DNS, std::move(dns));
}

// Built as a GENERAL_NAMES value rather than a "DNS:..." config string: see add_extension().
Status add_subject_alt_names(X509* cert, const std::string& host) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return openssl_error("allocating subject alternative names");
  in_addr v4{};
  in6_addr v6{};
  const unsigned char* ip = nullptr;
  int ip_bytes = 0;
  bool loopback = false;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    ip = reinterpret_cast<const unsigned char*>(&v4);
    ip_bytes = sizeof v4;
    loopback = v4.s_addr == htonl(INADDR_LOOPBACK);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    ip = v6.s6_addr;
    ip_bytes = sizeof v6.s6_addr;
    loopback = std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  }
  Status s;
  if (ip != nullptr) {
    Asn1StringPtr address(ASN1_OCTET_STRING_new());
    if (!address || ASN1_OCTET_STRING_set(address.get(), ip, ip_bytes) != 1) {
      return openssl_error("encoding ip address " + host);
    }
    s = push_general_name(names.get(), GEN_IPADD, std::move(address));
    if (s.ok() && loopback) s = push_dns_name(names.get(), "localhost");
  } else {
    s = push_dns_name(names.get(), host);
  }
  if (!s.ok()) return s;
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return openssl_error("adding subjectAltName for " + host);
  }
  return {};
}

Result<Credentials> sign_and_encode(X509* cert, EVP_PKEY* signer, EVP_PKEY* subject_key) {
  if (X509_sign(cert, signer, EVP_sha256()) <= 0) return openssl_error("signing the certificate");
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), subject_key, nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return openssl_error("encoding the certificate and key as pem");
  }
  Credentials out;
  char* data = nullptr;
  long size = BIO_get_mem_data(cert_bio.get(), &data);
  out.cert_pem.assign(data, static_cast<std::size_t>(size));
  size = BIO_get_mem_data(key_bio.get(), &data);
  out.key_pem.assign(data, static_cast<std::size_t>(size));
  return out;
}

// The CA's certificate and key, checked to be a CA and a matching pair.
struct Issuer {
  X509Ptr cert;
  EvpPkeyPtr key;
};

Result<Issuer> load_issuer(const Credentials& ca) {
  Issuer issuer;
  Result<X509Ptr> cert = parse_certificate_pem(ca.cert_pem);
  if (!cert.ok()) return cert.status().annotated("ca certificate");
  Result<EvpPkeyPtr> key = parse_private_key_pem(ca.key_pem);
  if (!key.ok()) return key.status().annotated("ca key");
  issuer.cert = std::move(cert).value();
  issuer.key = std::move(key).value();
  if (X509_check_ca(issuer.cert.get()) == 0) {
    return Status::invalid_input("ca certificate is not a certificate authority");
  }
  if (X509_check_private_key(issuer.cert.get(), issuer.key.get()) != 1) {
    return openssl_error("ca key does not match the ca certificate", Code::kInvalidInput);
  }
  return issuer;
}

// A leaf certificate for `cn`, signed by `issuer`, with the usages every leaf shares.
Result<X509Ptr> new_leaf(const Issuer& issuer, EVP_PKEY* key, const std::string& cn,
                         const char* extended_usage) {
  X509NamePtr subject(X509_NAME_new());
  if (!subject) return openssl_error("allocating a name");
  if (Status s = add_name_entry(subject.get(), "CN", cn); !s.ok()) return s;
  Result<X509Ptr> cert = new_cert(key, subject.get(), X509_get_subject_name(issuer.cert.get()),
                                  days_in(kLeafValidityYears));
  if (!cert.ok()) return cert.status();
  X509* leaf = cert->get();
  // A leaf outliving its CA would only fail later, with a less clear error.
  const ASN1_TIME* ca_end = X509_get0_notAfter(issuer.cert.get());
  if (ASN1_TIME_compare(X509_get0_notAfter(leaf), ca_end) > 0 &&
      X509_set1_notAfter(leaf, ca_end) != 1) {
    return openssl_error("limiting validity to the ca's");
  }
  for (const auto& [nid, value] :
       {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
        std::pair{NID_key_usage, "critical,digitalSignature"},
        std::pair{NID_ext_key_usage, extended_usage}, std::pair{NID_subject_key_identifier, "hash"},
        std::pair{NID_authority_key_identifier, "keyid:always"}}) {
    if (Status s = add_extension(leaf, issuer.cert.get(), nid, value); !s.ok()) return s;
  }
  return cert;
}

Result<std::string> common_name_of(const X509* cert) {
  const X509_NAME* subject = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return Status::invalid_input("certificate has no common name");
  if (X509_NAME_get_index_by_NID(subject, NID_commonName, index) >= 0) {
    return Status::invalid_input("certificate has more than one common name");
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* raw = nullptr;
  const int size = ASN1_STRING_to_UTF8(&raw, data);
  OsslBytesPtr utf8(raw);
  if (size < 0) return openssl_error("decoding the common name", Code::kInvalidInput);
  std::string cn(reinterpret_cast<const char*>(utf8.get()), static_cast<std::size_t>(size));
  if (cn.empty()) return Status::invalid_input("certificate has an empty common name");
  if (cn.find('\0') != std::string::npos) {
    return Status::invalid_input("certificate common name holds a nul byte");
  }
  return cn;
}

bool is_dns_name(const std::string& host) {
  if (host.empty() || host.size() > kMaxDnsNameBytes) return false;
  std::size_t label = 0;
  char previous = '.';
  for (const char c : host) {
    if (c == '.') {
      if (label == 0 || previous == '-') return false;
      label = 0;
    } else {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && (c != '-' || label == 0)) return false;
      if (++label > kMaxDnsLabelBytes) return false;
    }
    previous = c;
  }
  return label > 0 && previous != '-';
}

}  // namespace

HostKind host_kind(const std::string& host) {
  unsigned char ip[sizeof(in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), ip) == 1 || inet_pton(AF_INET6, host.c_str(), ip) == 1) {
    return HostKind::kIpAddress;
  }
  return is_dns_name(host) ? HostKind::kDnsName : HostKind::kInvalid;
}

Result<X509Ptr> parse_certificate_pem(const std::string& pem) {
  ERR_clear_error();
  Result<BioPtr> bio = read_bio(pem, "certificate");
  if (!bio.ok()) return bio.status();
  X509Ptr cert(PEM_read_bio_X509(bio->get(), nullptr, &no_passphrase, nullptr));
  if (!cert) return openssl_error("certificate: not a pem certificate", Code::kInvalidInput);
  X509Ptr extra(PEM_read_bio_X509(bio->get(), nullptr, &no_passphrase, nullptr));
  if (extra) return Status::invalid_input("certificate: pem holds more than one certificate");
  // Running out of PEM blocks is how the second read ends; anything else is damage.
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
  } else {
    return openssl_error("certificate: damaged pem after the certificate", Code::kInvalidInput);
  }
  return cert;
}

Result<EvpPkeyPtr> parse_private_key_pem(const std::string& pem) {
  ERR_clear_error();
  Result<BioPtr> bio = read_bio(pem, "private key");
  if (!bio.ok()) return bio.status();
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio->get(), nullptr, &no_passphrase, nullptr));
  if (!key) {
    return openssl_error("private key: not an unencrypted pem private key", Code::kInvalidInput);
  }
  return key;
}

Result<Credentials> make_ca(const std::string& name) {
  ERR_clear_error();
  if (Status s = check_name_field(name, "ca name"); !s.ok()) return s;
  Result<EvpPkeyPtr> key = new_ec_key();
  if (!key.ok()) return key.status();
  X509NamePtr subject(X509_NAME_new());
  if (!subject) return openssl_error("allocating a name");
  if (Status s = add_name_entry(subject.get(), "CN", name); !s.ok()) return s;
  if (Status s = add_name_entry(subject.get(), "O", name); !s.ok()) return s;
  Result<X509Ptr> cert =
      new_cert(key->get(), subject.get(), subject.get(), days_in(kCaValidityYears));
  if (!cert.ok()) return cert.status();
  X509* ca = cert->get();
  // Self-signed: the certificate is its own issuer for the key identifier.
  for (const auto& [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                                   std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                                   std::pair{NID_subject_key_identifier, "hash"}}) {
    if (Status s = add_extension(ca, ca, nid, value); !s.ok()) return s.annotated("ca " + name);
  }
  return sign_and_encode(ca, key->get(), key->get());
}

Result<Credentials> issue_hub_cert(const Credentials& ca, const std::string& host) {
  ERR_clear_error();
  if (host_kind(host) == HostKind::kInvalid) {
    return Status::invalid_input("hub host \"" + host +
                                 "\" is neither an ip address nor a dns name");
  }
  Result<Issuer> issuer = load_issuer(ca);
  if (!issuer.ok()) return issuer.status();
  Result<EvpPkeyPtr> key = new_ec_key();
  if (!key.ok()) return key.status();
  Result<X509Ptr> cert = new_leaf(*issuer, key->get(), host, "serverAuth");
  if (!cert.ok()) return cert.status().annotated("hub certificate for " + host);
  if (Status s = add_subject_alt_names(cert->get(), host); !s.ok()) return s;
  return sign_and_encode(cert->get(), issuer->key.get(), key->get());
}

Result<Credentials> issue_device_cert(const Credentials& ca, const std::string& device_id) {
  ERR_clear_error();
  if (Status s = check_name_field(device_id, "device id"); !s.ok()) return s;
  Result<Issuer> issuer = load_issuer(ca);
  if (!issuer.ok()) return issuer.status();
  Result<EvpPkeyPtr> key = new_ec_key();
  if (!key.ok()) return key.status();
  Result<X509Ptr> cert = new_leaf(*issuer, key->get(), device_id, "clientAuth");
  if (!cert.ok()) return cert.status().annotated("device certificate for " + device_id);
  return sign_and_encode(cert->get(), issuer->key.get(), key->get());
}

Result<std::string> common_name(const std::string& cert_pem) {
  Result<X509Ptr> cert = parse_certificate_pem(cert_pem);
  if (!cert.ok()) return cert.status();
  return common_name_of(cert->get());
}

Result<std::string> peer_common_name(SSL* ssl) {
  ERR_clear_error();
  if (ssl == nullptr) return Status::invalid_input("peer common name: no tls connection");
  if (SSL_is_init_finished(ssl) != 1) {
    return Status::invalid_input("peer common name: tls handshake not finished");
  }
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) return Status::rejected("peer presented no certificate");
  if (const long verdict = SSL_get_verify_result(ssl); verdict != X509_V_OK) {
    return Status::rejected(std::string("peer certificate failed verification: ") +
                            X509_verify_cert_error_string(verdict));
  }
  Result<std::string> cn = common_name_of(peer);
  if (!cn.ok()) return Status::rejected("peer certificate: " + cn.status().message());
  return cn;
}

Status check_device_credentials(const std::string& ca_pem, const Credentials& own,
                                const std::string& device_id) {
  Result<X509Ptr> ca = parse_certificate_pem(ca_pem);
  if (!ca.ok()) return ca.status().annotated("ca_pem");
  if (X509_check_ca(ca->get()) == 0)
    return Status::invalid_input("ca_pem: certificate is not a certificate authority");
  Result<X509Ptr> cert = parse_certificate_pem(own.cert_pem);
  if (!cert.ok()) return cert.status().annotated("cert_pem");
  Result<EvpPkeyPtr> key = parse_private_key_pem(own.key_pem);
  if (!key.ok()) return key.status().annotated("key_pem");
  if (X509_check_private_key(cert->get(), key->get()) != 1)
    return openssl_error("key_pem: not the key of cert_pem", Code::kInvalidInput);
  EVP_PKEY* ca_key = X509_get0_pubkey(ca->get());
  if (ca_key == nullptr || X509_check_issued(ca->get(), cert->get()) != X509_V_OK ||
      X509_verify(cert->get(), ca_key) != 1) {
    ERR_clear_error();
    return Status::invalid_input("cert_pem: not signed by the CA in ca_pem");
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert->get())) > 0)
    return Status::invalid_input("cert_pem: not valid yet (is this machine's clock right?)");
  if (X509_cmp_current_time(X509_get0_notAfter(cert->get())) < 0)
    return Status::invalid_input("cert_pem: expired; enroll the device again");
  Result<std::string> cn = common_name(own.cert_pem);
  if (!cn.ok()) return cn.status().annotated("cert_pem");
  if (cn.value() != device_id) {
    return Status::invalid_input("cert_pem: made for device " + cn.value().substr(0, 64) +
                                 ", not " + device_id);
  }
  return {};
}

Status write_private_file(const std::string& path, const std::string& content) {
  return util::replace_file(path, content, 0600);
}

}  // namespace vs::tls
