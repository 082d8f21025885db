// Asio TLS contexts for the hub and for devices: TLS 1.3 only, mutual authentication against the
// deployment's CA and nothing else (schema/PROTOCOL.md, "TLS"): Asio's tlsv13 methods with
// verify_peer, plus verify_fail_if_no_peer_cert on the hub.
//
// A context is built once and shared by every connection of its process; Asio/OpenSSL allow
// streams on several threads to use one context. The builders catch every library exception and
// return it as kInternal; they leave this thread's OpenSSL error queue empty.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <visitsync/status.h>

#include "tls/certs.h"

namespace vs::tls {

// The hub's context: TLS 1.3 only, requires a client certificate (verify_peer and
// verify_fail_if_no_peer_cert) that chains to `ca_pem` alone (no system roots), presents `own`.
// Issues no session tickets and keeps no session cache: every connection verifies its device
// certificate in a full handshake.
// kInvalidInput: `ca_pem` unparsable or not a CA; `own` unparsable, or its key not matching its
// certificate. The caller owns the result.
[[nodiscard]] Result<std::unique_ptr<boost::asio::ssl::context>> server_context(
    const std::string& ca_pem, const Credentials& own);

// The console's context: TLS 1.3 only, presents `own`, asks no client certificate (browsers
// sign in with a password). Errors as server_context.
[[nodiscard]] Result<std::unique_ptr<boost::asio::ssl::context>> web_context(
    const Credentials& own);

// A device's context: TLS 1.3 only, verify_peer against `ca_pem` alone, presents `own`. Pair each
// stream with prepare_client_stream() so the hub's name is checked too. Errors as server_context.
[[nodiscard]] Result<std::unique_ptr<boost::asio::ssl::context>> client_context(
    const std::string& ca_pem, const Credentials& own);

// Prepares a client stream before its handshake to the hub at `host` (the enrolled host, without
// port or brackets): sends SNI when `host` is a DNS name (never for an IP literal, RFC 6066), and
// makes the handshake fail unless the hub's certificate names `host` in its subjectAltName (as
// DNS name or IP address; the subject CN is never consulted), through both OpenSSL's own check
// and boost::asio::ssl::host_name_verification.
// kInvalidInput: `host` neither an IP literal nor a DNS name. Call on the stream's thread.
[[nodiscard]] Status prepare_client_stream(
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& stream, const std::string& host);

}  // namespace vs::tls
