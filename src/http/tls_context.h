// The server's TLS context, built from ServerOptions' PEM files.
//
// Private to src/http (OpenSSL and Asio stay inside this module).
#pragma once

// clang-format off
// <utility> must come before Boost (Boost 1.74 headers use std::exchange).
#include <utility>
// clang-format on

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "common/status.h"
#include "http/server.h"

namespace lakegate::http::internal {

// A TLS server context (TLS 1.2 and newer) holding options.tls_cert_file's
// certificate chain and options.tls_key_file's private key. InvalidArgument,
// naming the file and the fix, when a file cannot be loaded or the key does
// not match the certificate; Internal when OpenSSL cannot set up a context.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsContext(const ServerOptions& options);

}  // namespace lakegate::http::internal
