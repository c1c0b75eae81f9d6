// Prints COUNT private_key_jwt client assertions (RFC 7523), one per line,
// for the token benchmark (bench/client_auth_bench.sh): each has its own jti,
// so the server accepts every one exactly once. Signing happens here, before
// the measured run, so the run measures the server alone.
//
// Usage: make_assertions KEY_FILE AUDIENCE COUNT
//   KEY_FILE: {"client_id","kid","private_key_pem"} (as `lakegate demo` writes)
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "common/files.h"
#include "common/random.h"
#include "crypto/keys.h"
#include "jose/jws.h"

int main(int argc, char** argv) {
  using namespace lakegate;
  if (argc != 4) {
    std::fprintf(stderr, "usage: make_assertions KEY_FILE AUDIENCE COUNT\n");
    return 2;
  }
  Result<std::string> text = ReadFile(argv[1]);
  if (!text.ok()) {
    std::fprintf(stderr, "%s\n", text.status().ToString().c_str());
    return 1;
  }
  const nlohmann::json file = nlohmann::json::parse(*text);
  Result<crypto::PrivateKey> key = crypto::PrivateKey::FromPem(
      crypto::Algorithm::kES256, file.at("private_key_pem").get<std::string>());
  if (!key.ok()) {
    std::fprintf(stderr, "%s\n", key.status().ToString().c_str());
    return 1;
  }
  const std::string client_id = file.at("client_id").get<std::string>();
  const jose::Signer signer(file.at("kid").get<std::string>(), *key, "JWT");
  const int64_t now = SystemClock::Get().NowSeconds();
  const long count = std::strtol(argv[3], nullptr, 10);
  for (long i = 0; i < count; ++i) {
    nlohmann::json claims = {{"iss", client_id},       {"sub", client_id}, {"aud", argv[2]},
                             {"jti", RandomToken(12)}, {"iat", now},       {"exp", now + 290}};
    Result<std::string> jwt = signer.SignCompact(claims.dump());
    if (!jwt.ok()) return 1;
    std::fwrite(jwt->data(), 1, jwt->size(), stdout);
    std::fputc('\n', stdout);
  }
  return 0;
}
