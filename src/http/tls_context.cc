#include "http/tls_context.h"

#include <openssl/ssl.h>

#include <exception>
#include <string>

namespace lakegate::http::internal {
namespace {

// Client certificates are optional and never judged here: the handshake
// succeeds whatever the client presents (or not), and the handlers decide
// what a certificate proves (RFC 8705: a trust anchor for tls_client_auth, a
// registered certificate for self_signed_tls_client_auth, a thumbprint for
// bound tokens).
int AcceptAnyClientCertificate(int, X509_STORE_CTX*) { return 1; }

constexpr unsigned char kSessionIdContext[] = "lakegate";

}  // namespace

Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsContext(const ServerOptions& options) {
  namespace ssl = boost::asio::ssl;
  try {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) {
      return InvalidArgumentError("http: cannot load TLS certificate " + options.tls_cert_file +
                                  ": " + ec.message() + "; give a readable PEM certificate chain");
    }
    ctx->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      return InvalidArgumentError("http: cannot load TLS private key " + options.tls_key_file +
                                  ": " + ec.message() +
                                  "; give a readable, unencrypted PEM private key");
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return InvalidArgumentError("http: TLS private key " + options.tls_key_file +
                                  " does not match certificate " + options.tls_cert_file);
    }
    if (options.request_client_certificates) {
      SSL_CTX_set_verify(ctx->native_handle(), SSL_VERIFY_PEER, AcceptAnyClientCertificate);
      // Resumed sessions keep their client certificate; OpenSSL requires a
      // session id context once it asks for one.
      SSL_CTX_set_session_id_context(ctx->native_handle(), kSessionIdContext,
                                     sizeof kSessionIdContext - 1);
    }
    return ctx;
  } catch (const std::exception& e) {
    return InternalError(std::string("http: cannot set up TLS: ") + e.what());
  }
}

}  // namespace lakegate::http::internal
