// Micro-benchmarks of the token hot paths, DISABLED_ so that unit runs never
// time anything. Run with
//   jose_test --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Bench*'
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>
#include <vector>

#include "jose/claims.h"
#include "jose/jws.h"
#include "test_keys.h"

namespace lakegate::jose {
namespace {

AccessTokenClaims BenchClaims(int64_t now) {
  AccessTokenClaims c;
  c.iss = "http://127.0.0.1:8080";
  c.sub = "etl-service";
  c.aud = {"athena-api"};
  c.client_id = "etl-service";
  c.scope = "query.read query.write query.admin";
  c.token_use = "access";
  c.iat = now;
  c.exp = now + 3600;
  c.jti = "Yd8f3kQ2xR7mP1vN9sT4wZ";
  c.version = 2;
  return c;
}

double ThreadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// CPU time of this thread per call: stable even when the machine is shared
// (wall-clock time is not).
template <typename F>
double MicrosPerOp(int iterations, F&& op) {
  double start = ThreadCpuMicros();
  for (int i = 0; i < iterations; ++i) op();
  return (ThreadCpuMicros() - start) / iterations;
}

TEST(JoseBench, DISABLED_BenchIssueAndVerify) {
  const int64_t now = 1'800'000'000;
  for (crypto::Algorithm algorithm :
       {crypto::Algorithm::kES256, crypto::Algorithm::kEdDSA, crypto::Algorithm::kRS256}) {
    Signer signer("kid-1", testing::TestKey(algorithm));
    KeySet keys({Jwk{.kid = "kid-1", .key = signer.public_key()}});
    VerifyOptions options;
    options.issuer = "http://127.0.0.1:8080";
    options.audience = "athena-api";
    options.token_use = "access";
    options.require_at_jwt_typ = true;
    std::string token = *signer.SignCompact(EncodeAccessTokenClaims(BenchClaims(now)));
    int n = algorithm == crypto::Algorithm::kRS256 ? 2000 : 30000;
    double encode_us = MicrosPerOp(n, [&] { (void)EncodeAccessTokenClaims(BenchClaims(now)); });
    double issue_us = MicrosPerOp(n, [&] {
      if (!signer.SignCompact(EncodeAccessTokenClaims(BenchClaims(now))).ok()) std::abort();
    });
    double verify_us = MicrosPerOp(n, [&] {
      if (!Verify(token, keys, options, now).ok()) std::abort();
    });
    std::printf(
        "%-6s token %zu B: encode claims %.2f us, issue (encode+sign) %.2f us (%.0f/s/core), "
        "verify %.2f us (%.0f/s/core)\n",
        std::string(crypto::AlgorithmName(algorithm)).c_str(), token.size(), encode_us, issue_us,
        1e6 / issue_us, verify_us, 1e6 / verify_us);
  }
}

TEST(JoseBench, DISABLED_BenchIssueEs256TwoThreads) {
  Signer signer("kid-1", testing::TestKey(crypto::Algorithm::kES256));
  const int kPerThread = 50000;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!signer.SignCompact(EncodeAccessTokenClaims(BenchClaims(1'800'000'000 + i))).ok()) {
          std::abort();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("ES256 issue, 2 threads: %.0f tokens/s\n", 2 * kPerThread / took.count());
}

}  // namespace
}  // namespace lakegate::jose
