// OpenSSL handles as move-only RAII types, and OpenSSL errors as Status values.
//
// Every raw OpenSSL handle we own lives in one of the unique_ptr aliases below from the moment it
// is created; raw pointers appear only as borrowed parameters. After any failed OpenSSL call, the
// caller returns openssl_error(), which empties this thread's error queue into the Status, so a
// stale entry can never surface in a later, unrelated error. Any thread may call these.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <visitsync/status.h>

namespace vs::tls {

// The deleter of every alias below: calls FreeFn, which accepts nullptr.
template <auto FreeFn>
struct OsslFree {
  template <class T>
  void operator()(T* p) const noexcept {
    FreeFn(p);
  }
};

// OPENSSL_free is a macro (it passes file and line); this gives it an address.
inline void free_openssl_buffer(void* p) noexcept { OPENSSL_free(p); }

using X509Ptr = std::unique_ptr<X509, OsslFree<&X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OsslFree<&X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OsslFree<&X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OsslFree<&X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslFree<&X509_STORE_CTX_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OsslFree<&GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OsslFree<&GENERAL_NAMES_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, OsslFree<&ASN1_STRING_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OsslFree<&EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OsslFree<&EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OsslFree<&EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OsslFree<&BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OsslFree<&BN_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OsslFree<&SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OsslFree<&SSL_free>>;
using OsslBytesPtr = std::unique_ptr<unsigned char, OsslFree<&free_openssl_buffer>>;

// A non-OK Status with `code` whose message is "what: <every queued OpenSSL error>", oldest first,
// each as "error:XXXXXXXX:library::reason" plus its detail text when OpenSSL recorded one. Always
// leaves this thread's error queue empty. If the queue was already empty, says so.
// Requires: called right after the failing OpenSSL call, on the same thread.
// Inline because this header has no .cc of its own.
[[nodiscard]] inline Status openssl_error(std::string_view what, Code code = Code::kInternal) {
  std::string message(what);
  message += ": ";
  int count = 0;
  const char* data = nullptr;
  int flags = 0;
  // Drain to the end even past a long queue: leaving entries behind is the bug this prevents.
  while (const unsigned long err = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    if (count++ > 0) message += "; ";
    char text[256];
    ERR_error_string_n(err, text, sizeof text);
    message += text;
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      message += " (";
      message += data;
      message += ")";
    }
  }
  if (count == 0) message += "no openssl error was queued";
  return Status(code == Code::kOk ? Code::kInternal : code, std::move(message));
}

}  // namespace vs::tls
