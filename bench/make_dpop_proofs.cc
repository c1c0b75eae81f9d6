// Prints COUNT DPoP proofs (RFC 9449) for POST URL, one per line, for the
// token benchmark (bench/client_auth_bench.sh): all by one fresh P-256 key,
// each with its own jti, so the server accepts every one exactly once. Signing
// happens here, before the measured run, so the run measures the server alone;
// a proof is accepted for 60 s after it was made.
//
// Usage: make_dpop_proofs URL COUNT
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/clock.h"
#include "crypto/keys.h"
#include "jose/jwt.h"

int main(int argc, char** argv) {
  using namespace lakegate;
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_dpop_proofs URL COUNT\n");
    return 2;
  }
  Result<crypto::PrivateKey> key = crypto::PrivateKey::Generate(crypto::Algorithm::kES256);
  if (!key.ok()) {
    std::fprintf(stderr, "%s\n", key.status().ToString().c_str());
    return 1;
  }
  const int64_t now = SystemClock::Get().NowSeconds();
  const long count = std::strtol(argv[2], nullptr, 10);
  for (long i = 0; i < count; ++i) {
    Result<std::string> proof = jose::MakeDpopProof(*key, "POST", argv[1], "", "", now);
    if (!proof.ok()) return 1;
    std::fwrite(proof->data(), 1, proof->size(), stdout);
    std::fputc('\n', stdout);
  }
  return 0;
}
