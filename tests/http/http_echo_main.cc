// http_echo_server PORT [THREADS]: serves GET /static ({"ok":true}), POST /echo
// and GET /sign (an ES256-sized ECDSA P-256 signature per request, like the
// token endpoint) on 127.0.0.1 for load tests with wrk. Stops on SIGINT/SIGTERM.
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/base64url.h"
#include "http/server.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

EVP_PKEY* g_key = nullptr;

// One ECDSA P-256 signature over SHA-256 of `data` with a per-thread context.
std::string Sign(const std::string& data) {
  thread_local EVP_PKEY_CTX* ctx = [] {
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new(g_key, nullptr);
    EVP_PKEY_sign_init(c);
    return c;
  }();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  unsigned char sig[128];
  size_t sig_len = sizeof sig;
  if (EVP_PKEY_sign(ctx, sig, &sig_len, digest, sizeof digest) != 1) return "";
  return lakegate::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(sig), sig_len));
}
}  // namespace

int main(int argc, char** argv) {
  using namespace lakegate::http;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
    return 2;
  }
  ServerOptions options;
  options.port = static_cast<uint16_t>(std::atoi(argv[1]));
  if (argc > 2) options.threads = std::atoi(argv[2]);
  Router router;
  router.Add(Method::kGet, "/static", [](std::shared_ptr<Exchange> ex) {
    Response r;
    r.body = "{\"ok\":true}";
    ex->Respond(std::move(r));
  });
  router.Add(Method::kPost, "/echo", [](std::shared_ptr<Exchange> ex) {
    Response r;
    r.body = ex->request().body;
    ex->Respond(std::move(r));
  });
  g_key = EVP_EC_gen("P-256");
  router.Add(Method::kGet, "/sign", [](std::shared_ptr<Exchange> ex) {
    Response r;
    r.body = "{\"access_token\":\"" + Sign(ex->request().target) + "\",\"token_type\":\"Bearer\"}";
    ex->Respond(std::move(r));
  });
  Server server(options, std::move(router), nullptr);
  lakegate::Status status = server.Start();
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("http://127.0.0.1:%u/static\n", server.port());
  std::fflush(stdout);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop) pause();
  server.Stop(std::chrono::seconds(2));
  return 0;
}
