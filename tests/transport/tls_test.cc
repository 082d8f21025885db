// tls/certs and tls/context: certificates chain to the deployment CA alone, and real TLS 1.3
// handshakes on 127.0.0.1 accept exactly the peers schema/PROTOCOL.md ("TLS") allows.
#include <chrono>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <visitsync/status.h>

#include "support/test_support.h"
#include "tls/certs.h"
#include "tls/context.h"
#include "tls/openssl.h"

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using TlsStream = ssl::stream<tcp::socket>;
using vs::Code;
using vs::Result;
using vs::Status;
using vs::tls::Credentials;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr auto kRunLimit = std::chrono::seconds(10);
constexpr const char* kHub = "127.0.0.1";
constexpr const char* kDevice = "d-12";

template <class T>
T must(Result<T> result) {
  INFO(result.status().to_string());
  REQUIRE(result.ok());
  return std::move(result).value();
}

struct Deployment {
  Credentials ca;
  Credentials hub;
  Credentials device;
};

Deployment make_deployment(const std::string& name) {
  Deployment d;
  d.ca = must(vs::tls::make_ca(name));
  d.hub = must(vs::tls::issue_hub_cert(d.ca, kHub));
  d.device = must(vs::tls::issue_device_cert(d.ca, kDevice));
  return d;
}

vs::tls::X509Ptr cert_of(const std::string& pem) {
  return must(vs::tls::parse_certificate_pem(pem));
}

// X509_V_OK when `leaf_pem` chains to `ca_pem` alone for `purpose`, else OpenSSL's verify error.
// X509_STRICT also holds the certificates to RFC 5280's structure (key identifiers, usages).
int verify_chain(const std::string& ca_pem, const std::string& leaf_pem, int purpose) {
  vs::tls::X509StorePtr store(X509_STORE_new());
  REQUIRE(store);
  vs::tls::X509Ptr ca = cert_of(ca_pem);
  REQUIRE(X509_STORE_add_cert(store.get(), ca.get()) == 1);
  vs::tls::X509Ptr leaf = cert_of(leaf_pem);
  vs::tls::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  REQUIRE(ctx);
  REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr) == 1);
  REQUIRE(X509_STORE_CTX_set_purpose(ctx.get(), purpose) == 1);
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT);
  const int verified = X509_verify_cert(ctx.get());
  const int error = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return verified == 1 ? X509_V_OK : (error == X509_V_OK ? X509_V_ERR_UNSPECIFIED : error);
}

std::string verify_text(int error) { return X509_verify_cert_error_string(error); }

bool has_critical(const X509* cert, int nid) {
  const int index = X509_get_ext_by_NID(cert, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

// Whole days from notBefore to notAfter.
int validity_days(const X509* cert) {
  int days = 0;
  int seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)) ==
          1);
  return days;
}

bool is_p256(const X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  char group[64] = {};
  std::size_t size = 0;
  return key != nullptr && EVP_PKEY_is_a(key, "EC") == 1 &&
         EVP_PKEY_get_group_name(key, group, sizeof group, &size) == 1 &&
         std::string(group) == "prime256v1";
}

// --- A small TLS harness: one hub accept and one client on 127.0.0.1, both bounded ---

struct Side {
  bool finished = false;
  boost::system::error_code handshake;  // the handshake's outcome (or the connect's, if it failed)
  long verify_result = X509_V_OK;       // the client's view of the hub's certificate
  std::string prepare;                  // prepare_client_stream()'s failure, if any
  std::string peer_cn;                  // hub: peer_common_name() after a good handshake
  boost::system::error_code transfer;   // after the handshake: the hub's greeting, as written/read
  std::string received;                 // client: the hub's first line, or the bytes of an alert
};

// The hub side: accepts one connection, handshakes, greets the device by its certificate's CN.
net::awaitable<void> serve_one(tcp::acceptor* acceptor, ssl::context* context, Side* out) {
  auto [accept_error, socket] = co_await acceptor->async_accept(use_tuple);
  if (accept_error) {
    out->handshake = accept_error;
    out->finished = true;
    co_return;
  }
  TlsStream stream(std::move(socket), *context);
  auto [error] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
  out->handshake = error;
  if (!error) {
    Result<std::string> cn = vs::tls::peer_common_name(stream.native_handle());
    out->peer_cn = cn.ok() ? cn.value() : "error: " + cn.status().to_string();
    const std::string line = "welcome " + out->peer_cn + "\n";
    auto [write_error, written] = co_await net::async_write(stream, net::buffer(line), use_tuple);
    out->transfer = write_error;
  }
  out->finished = true;
}

// A device: connects, prepares the stream for `host`, handshakes, reads the hub's first line.
// In TLS 1.3 the client's handshake ends before the hub has judged the client's certificate, so
// a refusal of the device shows up on this read, not in the client's handshake.
net::awaitable<void> connect_tls(tcp::endpoint hub, ssl::context* context, std::string host,
                                 Side* out) {
  const auto executor = co_await net::this_coro::executor;
  TlsStream stream(executor, *context);
  auto [connect_error] = co_await stream.next_layer().async_connect(hub, use_tuple);
  if (connect_error) {
    out->handshake = connect_error;
    out->finished = true;
    co_return;
  }
  if (Status s = vs::tls::prepare_client_stream(stream, host); !s.ok()) {
    out->prepare = s.to_string();
  }
  auto [error] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  out->handshake = error;
  out->verify_result = SSL_get_verify_result(stream.native_handle());
  if (!error) {
    std::string line;
    auto [read_error, size] =
        co_await net::async_read_until(stream, net::dynamic_buffer(line), '\n', use_tuple);
    out->transfer = read_error;
    out->received = line.substr(0, size);
  }
  out->finished = true;
}

// Not TLS at all: writes a line of text, then reads whatever comes back until the hub closes.
net::awaitable<void> send_plain_text(tcp::endpoint hub, Side* out) {
  const auto executor = co_await net::this_coro::executor;
  tcp::socket socket(executor);
  auto [connect_error] = co_await socket.async_connect(hub, use_tuple);
  out->handshake = connect_error;
  if (!connect_error) {
    const std::string hello = "hello\n";
    auto [write_error, written] = co_await net::async_write(socket, net::buffer(hello), use_tuple);
    out->handshake = write_error;
    std::string reply;
    auto [read_error, size] =
        co_await net::async_read(socket, net::dynamic_buffer(reply), use_tuple);
    out->transfer = read_error;
    out->received = reply;
  }
  out->finished = true;
}

// Completion handler of co_spawn: keeps an escaped exception instead of losing it.
struct KeepFailure {
  std::vector<std::string>* failures;
  const char* who;
  void operator()(const std::exception_ptr& error) const {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      failures->push_back(std::string(who) + ": " + e.what());
    } catch (...) {
      failures->push_back(std::string(who) + ": unknown exception");
    }
  }
};

// A hub listening on 127.0.0.1 on a port the OS picks, serving one connection.
class Harness {
 public:
  explicit Harness(ssl::context& hub_context)
      : acceptor_(io_, tcp::endpoint(net::ip::make_address_v4(kHub), 0)) {
    net::co_spawn(io_, serve_one(&acceptor_, &hub_context, &server),
                  KeepFailure{&failures_, "hub"});
  }

  tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  // Runs `client` against the hub until both sides finish, for kRunLimit at most.
  void run(net::awaitable<void> client_run) {
    net::co_spawn(io_, std::move(client_run), KeepFailure{&failures_, "client"});
    io_.run_for(kRunLimit);
    INFO("hub: " << server.handshake.message() << "; client: " << client.handshake.message());
    for (const std::string& failure : failures_) FAIL_CHECK(failure);
    REQUIRE(server.finished);
    REQUIRE(client.finished);
  }

  Side server;  // declared before io_: pending coroutines (on a failure) point here until io_ dies
  Side client;

 private:
  std::vector<std::string> failures_;
  net::io_context io_;
  tcp::acceptor acceptor_;
};

std::unique_ptr<ssl::context> hub_context(const Deployment& d) {
  return must(vs::tls::server_context(d.ca.cert_pem, d.hub));
}

std::unique_ptr<ssl::context> device_context(const Deployment& d) {
  return must(vs::tls::client_context(d.ca.cert_pem, d.device));
}

// Sets the process umask for one scope (tests run on one thread).
class UmaskScope {
 public:
  explicit UmaskScope(mode_t mask) : old_(::umask(mask)) {}
  ~UmaskScope() { ::umask(old_); }
  UmaskScope(const UmaskScope&) = delete;
  UmaskScope& operator=(const UmaskScope&) = delete;
  UmaskScope(UmaskScope&&) = delete;
  UmaskScope& operator=(UmaskScope&&) = delete;

 private:
  mode_t old_;
};

mode_t mode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

}  // namespace

// --- Certificates ---

TEST_CASE("a new ca, hub and device certificate chain to the deployment ca alone",
          "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");

  INFO(
      "hub: " << verify_text(verify_chain(d.ca.cert_pem, d.hub.cert_pem, X509_PURPOSE_SSL_SERVER)));
  CHECK(verify_chain(d.ca.cert_pem, d.hub.cert_pem, X509_PURPOSE_SSL_SERVER) == X509_V_OK);
  INFO("device: " << verify_text(
           verify_chain(d.ca.cert_pem, d.device.cert_pem, X509_PURPOSE_SSL_CLIENT)));
  CHECK(verify_chain(d.ca.cert_pem, d.device.cert_pem, X509_PURPOSE_SSL_CLIENT) == X509_V_OK);

  SECTION("each certificate serves only its own side") {
    CHECK(verify_chain(d.ca.cert_pem, d.hub.cert_pem, X509_PURPOSE_SSL_CLIENT) != X509_V_OK);
    CHECK(verify_chain(d.ca.cert_pem, d.device.cert_pem, X509_PURPOSE_SSL_SERVER) != X509_V_OK);
  }
  SECTION("certificates of another deployment do not chain to this ca") {
    const Deployment other = make_deployment("Inspectorate South");
    CHECK(verify_chain(d.ca.cert_pem, other.device.cert_pem, X509_PURPOSE_SSL_CLIENT) ==
          X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    CHECK(verify_chain(d.ca.cert_pem, other.hub.cert_pem, X509_PURPOSE_SSL_SERVER) ==
          X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  }
  SECTION("the ca is a p-256 ca with critical constraints, valid from an hour ago for 20 years") {
    const vs::tls::X509Ptr ca = cert_of(d.ca.cert_pem);
    CHECK(X509_check_ca(ca.get()) == 1);
    CHECK(has_critical(ca.get(), NID_basic_constraints));
    CHECK(has_critical(ca.get(), NID_key_usage));
    CHECK(X509_get_key_usage(ca.get()) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    CHECK(is_p256(ca.get()));
    CHECK(validity_days(ca.get()) == 20 * 365 + 5);
    std::time_t almost_an_hour_ago = std::time(nullptr) - 3500;
    std::time_t over_an_hour_ago = std::time(nullptr) - 3700;
    CHECK(X509_cmp_time(X509_get0_notBefore(ca.get()), &almost_an_hour_ago) < 0);
    CHECK(X509_cmp_time(X509_get0_notBefore(ca.get()), &over_an_hour_ago) > 0);
    CHECK(X509_get_signature_nid(ca.get()) == NID_ecdsa_with_SHA256);
  }
  SECTION("leaves are p-256, not cas, valid 5 years, with random 128-bit serials") {
    const vs::tls::X509Ptr hub = cert_of(d.hub.cert_pem);
    const vs::tls::X509Ptr device = cert_of(d.device.cert_pem);
    for (X509* leaf : {hub.get(), device.get()}) {
      CHECK(X509_check_ca(leaf) == 0);
      CHECK(is_p256(leaf));
      CHECK(validity_days(leaf) == 5 * 365 + 1);
      CHECK(X509_get_signature_nid(leaf) == NID_ecdsa_with_SHA256);
    }
    CHECK((X509_get_extended_key_usage(hub.get()) & XKU_SSL_SERVER) != 0);
    CHECK((X509_get_extended_key_usage(device.get()) & XKU_SSL_CLIENT) != 0);
    CHECK((X509_get_extended_key_usage(device.get()) & XKU_SSL_SERVER) == 0);
    CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(hub.get()),
                           X509_get0_serialNumber(device.get())) != 0);
    vs::tls::BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(hub.get()), nullptr));
    REQUIRE(serial);
    CHECK(BN_num_bits(serial.get()) > 64);  // fails with odds of 2^-64
    CHECK(BN_num_bits(serial.get()) <= 128);
  }
  SECTION("the hub certificate names its ip address and localhost, and nothing else") {
    const vs::tls::X509Ptr hub = cert_of(d.hub.cert_pem);
    CHECK(X509_check_ip_asc(hub.get(), "127.0.0.1", 0) == 1);
    CHECK(X509_check_host(hub.get(), "localhost", 0, 0, nullptr) == 1);
    CHECK(X509_check_ip_asc(hub.get(), "127.0.0.2", 0) == 0);
    CHECK(X509_check_host(hub.get(), "hub.example", 0, 0, nullptr) == 0);
  }
}

TEST_CASE("a hub certificate names a dns host or an ipv6 literal in its subjectAltName",
          "[transport][tls]") {
  const Credentials ca = must(vs::tls::make_ca("Inspectorate North"));
  SECTION("a dns name") {
    const Credentials hub = must(vs::tls::issue_hub_cert(ca, "hub.example"));
    const vs::tls::X509Ptr cert = cert_of(hub.cert_pem);
    CHECK(X509_check_host(cert.get(), "hub.example", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                          nullptr) == 1);
    CHECK(X509_check_host(cert.get(), "localhost", 0, 0, nullptr) == 0);
    CHECK(must(vs::tls::common_name(hub.cert_pem)) == "hub.example");
  }
  SECTION("the ipv6 loopback") {
    const Credentials hub = must(vs::tls::issue_hub_cert(ca, "::1"));
    const vs::tls::X509Ptr cert = cert_of(hub.cert_pem);
    CHECK(X509_check_ip_asc(cert.get(), "::1", 0) == 1);
    CHECK(X509_check_host(cert.get(), "localhost", 0, 0, nullptr) == 1);
  }
  SECTION("a routable ipv4 address gets no localhost") {
    const Credentials hub = must(vs::tls::issue_hub_cert(ca, "192.0.2.7"));
    const vs::tls::X509Ptr cert = cert_of(hub.cert_pem);
    CHECK(X509_check_ip_asc(cert.get(), "192.0.2.7", 0) == 1);
    CHECK(X509_check_host(cert.get(), "localhost", 0, 0, nullptr) == 0);
  }
}

TEST_CASE("common_name reads the subject cn of a pem certificate", "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  CHECK(must(vs::tls::common_name(d.ca.cert_pem)) == "Inspectorate North");
  CHECK(must(vs::tls::common_name(d.hub.cert_pem)) == kHub);
  CHECK(must(vs::tls::common_name(d.device.cert_pem)) == kDevice);

  const Credentials utf8 = must(vs::tls::issue_device_cert(d.ca, "tablette-é-7"));
  CHECK(must(vs::tls::common_name(utf8.cert_pem)) == "tablette-é-7");
}

TEST_CASE("issuing refuses bad names and a ca that cannot sign", "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  auto code_of = [](const auto& result) { return result.status().code(); };

  SECTION("hosts that are neither dns names nor ip literals") {
    for (const char* host :
         {"", "hub.example,DNS:bank.example", "[::1]", "hub.example.", "hub example",
          "-hub.example", "hub-.example", "127.0.0.1:7443", "fe80::1%eth0", "hub..example"}) {
      INFO("host \"" << host << "\"");
      const Result<Credentials> hub = vs::tls::issue_hub_cert(d.ca, host);
      CHECK(code_of(hub) == Code::kInvalidInput);
      CHECK_THAT(hub.status().message(), Catch::Contains("neither an ip address nor a dns name"));
    }
  }
  SECTION("device ids that are empty, too long or hold control characters") {
    CHECK(code_of(vs::tls::issue_device_cert(d.ca, "")) == Code::kInvalidInput);
    CHECK(code_of(vs::tls::issue_device_cert(d.ca, "d-1\n2")) == Code::kInvalidInput);
    const Result<Credentials> too_long = vs::tls::issue_device_cert(d.ca, std::string(65, 'd'));
    CHECK(code_of(too_long) == Code::kInvalidInput);
    INFO(too_long.status().message());
    CHECK(vs::tls::issue_device_cert(d.ca, std::string(64, 'd')).ok());
  }
  SECTION("a leaf certificate as the ca") {
    const Result<Credentials> hub = vs::tls::issue_hub_cert(d.hub, kHub);
    CHECK(code_of(hub) == Code::kInvalidInput);
    CHECK_THAT(hub.status().message(), Catch::Contains("not a certificate authority"));
  }
  SECTION("a ca key that does not match the ca certificate") {
    const Credentials mixed{d.ca.cert_pem, d.device.key_pem};
    const Result<Credentials> device = vs::tls::issue_device_cert(mixed, kDevice);
    CHECK(code_of(device) == Code::kInvalidInput);
    CHECK_THAT(device.status().message(), Catch::Contains("does not match"));
  }
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("bad pem is refused with a message that says what is wrong", "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  const std::string truncated = d.device.cert_pem.substr(0, d.device.cert_pem.size() / 2);
  auto text_of = [](const Status& s) { return s.message(); };

  SECTION("certificates") {
    const Status empty = vs::tls::common_name("").status();
    CHECK(empty.code() == Code::kInvalidInput);
    CHECK_THAT(text_of(empty), Catch::Contains("empty pem"));
    for (const std::string& pem : {std::string("not a certificate"), truncated, d.device.key_pem}) {
      const Status s = vs::tls::common_name(pem).status();
      CHECK(s.code() == Code::kInvalidInput);
      CHECK_THAT(text_of(s), Catch::StartsWith("certificate: not a pem certificate: error:"));
    }
    const Status two = vs::tls::common_name(d.hub.cert_pem + d.device.cert_pem).status();
    CHECK(two.code() == Code::kInvalidInput);
    CHECK_THAT(text_of(two), Catch::Contains("more than one certificate"));
    const Status huge = vs::tls::common_name(std::string(vs::tls::kMaxPemBytes + 1, 'A')).status();
    CHECK(huge.code() == Code::kInvalidInput);
    CHECK_THAT(text_of(huge), Catch::Contains("expected at most"));
  }
  SECTION("private keys") {
    const Status s = vs::tls::parse_private_key_pem(d.device.cert_pem).status();
    CHECK(s.code() == Code::kInvalidInput);
    CHECK_THAT(text_of(s), Catch::StartsWith("private key: not an unencrypted pem private key"));
  }
  SECTION("tls contexts") {
    const Status bad_ca = vs::tls::server_context("garbage", d.hub).status();
    CHECK(bad_ca.code() == Code::kInvalidInput);
    CHECK_THAT(text_of(bad_ca), Catch::StartsWith("hub tls context: ca: certificate: not a pem"));

    const Status leaf_as_ca = vs::tls::client_context(d.hub.cert_pem, d.device).status();
    CHECK(leaf_as_ca.code() == Code::kInvalidInput);
    CHECK_THAT(text_of(leaf_as_ca), Catch::Contains("not a certificate authority"));

    const Status bad_cert =
        vs::tls::server_context(d.ca.cert_pem, {truncated, d.hub.key_pem}).status();
    CHECK(bad_cert.code() == Code::kInvalidInput);
    CHECK_THAT(text_of(bad_cert), Catch::Contains("own certificate: certificate: not a pem"));

    const Status bad_key =
        vs::tls::client_context(d.ca.cert_pem, {d.device.cert_pem, "key"}).status();
    CHECK(bad_key.code() == Code::kInvalidInput);
    CHECK_THAT(text_of(bad_key), Catch::Contains("own key: private key:"));

    const Status mismatch =
        vs::tls::server_context(d.ca.cert_pem, {d.hub.cert_pem, d.device.key_pem}).status();
    CHECK(mismatch.code() == Code::kInvalidInput);
    CHECK_THAT(text_of(mismatch), Catch::Contains("own key does not match own certificate"));
  }
  CHECK(ERR_peek_error() == 0);  // nothing stale left for a later, unrelated error
}

TEST_CASE("openssl_error drains the whole error queue into its message", "[transport][tls]") {
  ERR_clear_error();
  ERR_raise(ERR_LIB_X509, X509_R_KEY_VALUES_MISMATCH);
  ERR_raise_data(ERR_LIB_PEM, PEM_R_NO_START_LINE, "in %s", "the test");
  const Status s = vs::tls::openssl_error("loading things", Code::kInvalidInput);
  CHECK(s.code() == Code::kInvalidInput);
  CHECK_THAT(s.message(), Catch::StartsWith("loading things: error:"));
  CHECK_THAT(s.message(), Catch::Contains("key values mismatch"));
  CHECK_THAT(s.message(), Catch::Contains("no start line (in the test)"));
  CHECK(ERR_peek_error() == 0);

  const Status empty = vs::tls::openssl_error("nothing");
  CHECK(empty.code() == Code::kInternal);
  CHECK(empty.message() == "nothing: no openssl error was queued");
}

TEST_CASE("write_private_file creates the file with mode 0600 and replaces it whole",
          "[transport][tls]") {
  vs::test::TempDir dir;
  const std::string path = dir.file("device.key");
  const UmaskScope permissive(0);  // a 0644 create would show as 0644 here

  SECTION("a new file") {
    REQUIRE(vs::tls::write_private_file(path, "secret one").ok());
    CHECK(mode_of(path) == 0600);
    CHECK(vs::test::slurp(path) == "secret one");
  }
  SECTION("an existing world-readable file is replaced, not rewritten in place") {
    { std::ofstream(path) << "old secret that is longer"; }
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    REQUIRE(vs::tls::write_private_file(path, "new").ok());
    CHECK(mode_of(path) == 0600);
    CHECK(vs::test::slurp(path) == "new");
  }
  SECTION("a missing folder is bad input (the path is wrong) and leaves nothing behind") {
    const Status s = vs::tls::write_private_file(dir.file("missing/device.key"), "secret");
    CHECK(s.code() == Code::kInvalidInput);
    CHECK_THAT(s.message(), Catch::Contains("missing/device.key"));
  }
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  CHECK(names.size() <= 1);  // no temporary file left beside it
}

TEST_CASE("peer_common_name refuses a missing connection", "[transport][tls]") {
  CHECK(vs::tls::peer_common_name(nullptr).status().code() == Code::kInvalidInput);
}

// --- Real handshakes on 127.0.0.1 ---

TEST_CASE("a device with a certificate from the deployment ca connects and the hub reads its id",
          "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  const auto hub = hub_context(d);
  const auto device = device_context(d);
  Harness h(*hub);
  h.run(connect_tls(h.endpoint(), device.get(), kHub, &h.client));

  CHECK(h.client.prepare.empty());
  CHECK_FALSE(h.client.handshake);
  CHECK_FALSE(h.server.handshake);
  CHECK(h.server.peer_cn == kDevice);
  CHECK(h.client.received == "welcome d-12\n");
}

TEST_CASE("the hub refuses a device certificate from another ca", "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  const Deployment other = make_deployment("Inspectorate South");
  const auto hub = hub_context(d);
  // Trusts the real hub (so the device side is fine) but presents a foreign device certificate.
  const auto device = must(vs::tls::client_context(d.ca.cert_pem, other.device));
  Harness h(*hub);
  h.run(connect_tls(h.endpoint(), device.get(), kHub, &h.client));

  INFO("hub: " << h.server.handshake.message() << "; client read: " << h.client.transfer.message());
  CHECK(h.server.handshake);
  CHECK(h.server.peer_cn.empty());
  CHECK(h.client.received.empty());  // TLS 1.3: the device learns of it on its first read
}

TEST_CASE("the hub refuses a client that presents no certificate", "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  const auto hub = hub_context(d);
  auto anonymous = std::make_unique<ssl::context>(ssl::context::tlsv13_client);
  anonymous->set_verify_mode(ssl::verify_peer);
  anonymous->add_certificate_authority(net::buffer(d.ca.cert_pem));
  Harness h(*hub);
  h.run(connect_tls(h.endpoint(), anonymous.get(), kHub, &h.client));

  INFO("hub: " << h.server.handshake.message());
  CHECK(h.server.handshake);
  CHECK(h.server.peer_cn.empty());
  CHECK(h.client.received.empty());
}

TEST_CASE("the hub survives a plain tcp client that writes text instead of tls",
          "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  const auto hub = hub_context(d);
  Harness h(*hub);
  h.run(send_plain_text(h.endpoint(), &h.client));

  INFO("hub: " << h.server.handshake.message());
  CHECK_FALSE(h.client.handshake);  // the text did reach the hub
  CHECK(h.server.handshake);
  CHECK(h.server.peer_cn.empty());
  CHECK(h.client.transfer == net::error::eof);  // the hub closed the connection
}

TEST_CASE("a tls 1.2 only client fails the handshake on both sides", "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  const auto hub = hub_context(d);
  const auto device = device_context(d);
  SSL_CTX* native = device->native_handle();
  REQUIRE(SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) == 1);
  REQUIRE(SSL_CTX_set_max_proto_version(native, TLS1_2_VERSION) == 1);
  Harness h(*hub);
  h.run(connect_tls(h.endpoint(), device.get(), kHub, &h.client));

  INFO("hub: " << h.server.handshake.message() << "; client: " << h.client.handshake.message());
  CHECK(h.server.handshake);
  CHECK(h.client.handshake);
  CHECK(h.server.peer_cn.empty());
}

TEST_CASE("a device refuses a hub whose certificate names another host", "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  const auto hub = hub_context(d);
  const auto device = device_context(d);
  Harness h(*hub);
  h.run(connect_tls(h.endpoint(), device.get(), "hub.example", &h.client));

  INFO("client: " << h.client.handshake.message());
  CHECK(h.client.prepare.empty());
  CHECK(h.client.handshake);
  CHECK(h.client.verify_result == X509_V_ERR_HOSTNAME_MISMATCH);
  CHECK(h.server.handshake);  // the device aborted with an alert
}

TEST_CASE("a device refuses a hub with a certificate from another ca", "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  const Deployment other = make_deployment("Inspectorate South");
  const auto hub = hub_context(other);
  const auto device = device_context(d);
  Harness h(*hub);
  h.run(connect_tls(h.endpoint(), device.get(), kHub, &h.client));

  INFO("client: " << h.client.handshake.message());
  CHECK(h.client.handshake);
  // The hub sends its leaf alone (no auto chain), so the device finds no issuer it trusts.
  CHECK(h.client.verify_result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  CHECK(h.server.handshake);
}

TEST_CASE("a hub certificate issued for 127.0.0.1 verifies when the device expects 127.0.0.1",
          "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  const auto hub = hub_context(d);
  const auto device = device_context(d);
  // Both connect to 127.0.0.1; "localhost" also exercises the SNI path of prepare_client_stream.
  const std::string expected = GENERATE(std::string(kHub), std::string("localhost"));
  Harness h(*hub);
  h.run(connect_tls(h.endpoint(), device.get(), expected, &h.client));

  INFO("expecting " << expected << "; client: " << h.client.handshake.message());
  CHECK(h.client.prepare.empty());
  CHECK_FALSE(h.client.handshake);
  CHECK(h.client.verify_result == X509_V_OK);
  CHECK_FALSE(h.server.handshake);
  CHECK(h.client.received == "welcome d-12\n");
}

TEST_CASE("prepare_client_stream refuses a host that is neither a dns name nor an ip address",
          "[transport][tls]") {
  const Deployment d = make_deployment("Inspectorate North");
  const auto device = device_context(d);
  net::io_context io;
  TlsStream stream(io, *device);
  const Status s = vs::tls::prepare_client_stream(stream, "hub.example:7443");
  CHECK(s.code() == Code::kInvalidInput);
  CHECK_THAT(s.message(), Catch::Contains("hub.example:7443"));
}
