#include "tls/context.h"

#include <exception>
#include <utility>

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/system/error_code.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "tls/openssl.h"

namespace vs::tls {
namespace {

namespace ssl = boost::asio::ssl;

enum class Role { kServer, kClient, kWeb };  // kWeb: the console, for browsers

// A fresh SSL_CTX has an empty store: we never call set_default_verify_paths(), so the system's
// roots are not trusted, only the deployment's CA.
Status trust_only(SSL_CTX* ctx, const std::string& ca_pem, Role role) {
  Result<X509Ptr> ca = parse_certificate_pem(ca_pem);
  if (!ca.ok()) return ca.status().annotated("ca");
  if (X509_check_ca(ca->get()) == 0) {
    return Status::invalid_input("ca: certificate is not a certificate authority");
  }
  if (X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca->get()) != 1) {
    return openssl_error("trusting the ca");
  }
  // Named in the CertificateRequest, so a client holding several certificates picks ours.
  if (role == Role::kServer && SSL_CTX_add_client_CA(ctx, ca->get()) != 1) {
    return openssl_error("naming the ca to clients");
  }
  return {};
}

Status present(SSL_CTX* ctx, const Credentials& own) {
  Result<X509Ptr> cert = parse_certificate_pem(own.cert_pem);
  if (!cert.ok()) return cert.status().annotated("own certificate");
  Result<EvpPkeyPtr> key = parse_private_key_pem(own.key_pem);
  if (!key.ok()) return key.status().annotated("own key");
  // Checked before loading: SSL_CTX_use_PrivateKey() on a mismatch drops the certificate and
  // reports the reason less plainly.
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    return openssl_error("own key does not match own certificate", Code::kInvalidInput);
  }
  if (SSL_CTX_use_certificate(ctx, cert->get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key->get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return openssl_error("loading own certificate and key", Code::kInvalidInput);
  }
  return {};
}

Status configure(ssl::context& context, Role role, const std::string& ca_pem,
                 const Credentials& own) {
  SSL_CTX* ctx = context.native_handle();
  // Asio's tlsv13_* methods already pin both bounds; pinned again so a change of method can
  // never quietly admit TLS 1.2.
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return openssl_error("limiting the context to tls 1.3");
  }
  boost::system::error_code ec;
  context.set_options(ssl::context::no_compression, ec);
  if (!ec) {
    context.set_verify_mode(role == Role::kServer
                                ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                            : role == Role::kWeb ? ssl::verify_none
                                                 : ssl::verify_peer,
                            ec);
  }
  if (ec) return Status::internal("configuring the tls context: " + ec.message());
  // Otherwise OpenSSL builds our chain from the trust store and sends the CA too: ~450 bytes per
  // handshake each way that the peer, which trusts that CA already, never needs.
  SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
  if (role == Role::kServer) {
    // A resumed TLS 1.3 session skips the client's certificate; with no tickets and no cache
    // each connection proves its device certificate again.
    if (SSL_CTX_set_num_tickets(ctx, 0) != 1) return openssl_error("disabling session tickets");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  if (role != Role::kWeb) {
    if (Status s = trust_only(ctx, ca_pem, role); !s.ok()) return s;
  }
  return present(ctx, own);
}

Result<std::unique_ptr<ssl::context>> make_context(Role role, const std::string& ca_pem,
                                                   const Credentials& own) {
  ERR_clear_error();
  const char* what = role == Role::kServer ? "hub tls context"
                     : role == Role::kWeb  ? "console tls context"
                                           : "device tls context";
  try {
    auto context = std::make_unique<ssl::context>(
        role == Role::kClient ? ssl::context::tlsv13_client : ssl::context::tlsv13_server);
    if (Status s = configure(*context, role, ca_pem, own); !s.ok()) return s.annotated(what);
    return context;
  } catch (const std::exception& e) {
    // Asio throws when SSL_CTX_new fails, and it may have left its reason queued.
    ERR_clear_error();
    return Status::internal(std::string(what) + ": " + e.what());
  }
}

}  // namespace

Result<std::unique_ptr<ssl::context>> server_context(const std::string& ca_pem,
                                                     const Credentials& own) {
  return make_context(Role::kServer, ca_pem, own);
}

Result<std::unique_ptr<ssl::context>> web_context(const Credentials& own) {
  return make_context(Role::kWeb, "", own);
}

Result<std::unique_ptr<ssl::context>> client_context(const std::string& ca_pem,
                                                     const Credentials& own) {
  return make_context(Role::kClient, ca_pem, own);
}

Status prepare_client_stream(ssl::stream<boost::asio::ip::tcp::socket>& stream,
                             const std::string& host) {
  ERR_clear_error();
  const HostKind kind = host_kind(host);
  if (kind == HostKind::kInvalid) {
    return Status::invalid_input("hub host \"" + host +
                                 "\" is neither an ip address nor a dns name");
  }
  SSL* ssl = stream.native_handle();
  // OpenSSL's own check gives a precise verify result (hostname or ip address mismatch) and
  // never falls back to the subject CN; Asio's callback below is the same check, kept as the
  // documented Asio way.
  SSL_set_hostflags(ssl,
                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  if (kind == HostKind::kIpAddress) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) {
      return openssl_error("expecting hub address " + host);
    }
  } else if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 ||
             SSL_set1_host(ssl, host.c_str()) != 1) {
    return openssl_error("expecting hub name " + host);
  }
  try {
    boost::system::error_code ec;
    stream.set_verify_callback(ssl::host_name_verification(host), ec);
    if (ec) return Status::internal("setting hub name verification: " + ec.message());
  } catch (const std::exception& e) {
    return Status::internal(std::string("setting hub name verification: ") + e.what());
  }
  return {};
}

}  // namespace vs::tls
