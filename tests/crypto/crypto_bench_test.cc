// Micro-benchmarks, DISABLED_ so that unit runs never time anything. Run with
//   crypto_test --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Bench*'
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>
#include <vector>

#include "crypto/keys.h"

namespace lakegate::crypto {
namespace {

// A realistic JWS signing input (~330 bytes, like an access token's).
const std::string kInput =
    "eyJhbGciOiJFUzI1NiIsImtpZCI6Ik56YkxzWGg4dUNDY2QtNk1Od1hGNFdfN25vV1hGWkFmSGt4WnNSR0M5WHMiLCJ0eX"
    "Ai"
    "OiJhdCtqd3QifQ."
    "eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJzdWIiOiJldGwtc2VydmljZSIsImF1ZCI6ImF0"
    "aGVuYS1hcGkiLCJjbGllbnRfaWQiOiJldGwtc2VydmljZSIsInRva2VuX3VzZSI6ImFjY2VzcyIsInNjb3BlIjoicXVlcn"
    "ku"
    "cmVhZCBxdWVyeS53cml0ZSIsImlhdCI6MTgwMDAwMDAwMCwiZXhwIjoxODAwMDAzNjAwLCJqdGkiOiJhYmMiLCJ2ZXJzaW"
    "9uIjoyfQ";

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

void BenchSignVerify(Algorithm algorithm, int iterations) {
  Result<PrivateKey> key = PrivateKey::Generate(algorithm);
  ASSERT_TRUE(key.ok());
  PublicKey pub = key->Public();
  std::string sig = *key->Sign(kInput);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(key->Sign(kInput).ok());  // warm-up
  double sign_us = MicrosPerOp(iterations, [&] { ASSERT_TRUE(key->Sign(kInput).ok()); });
  double verify_us = MicrosPerOp(iterations, [&] { ASSERT_TRUE(pub.Verify(kInput, sig)); });
  std::printf("%-6s sign %8.2f us CPU/op (%7.0f/s/core)   verify %8.2f us CPU/op (%7.0f/s/core)\n",
              std::string(AlgorithmName(algorithm)).c_str(), sign_us, 1e6 / sign_us, verify_us,
              1e6 / verify_us);
}

TEST(CryptoBench, DISABLED_BenchSignVerifySingleThread) {
  BenchSignVerify(Algorithm::kES256, 50000);
  BenchSignVerify(Algorithm::kEdDSA, 20000);
  BenchSignVerify(Algorithm::kRS256, 2000);
}

TEST(CryptoBench, DISABLED_BenchEs256SignTwoThreads) {
  Result<PrivateKey> key = PrivateKey::Generate(Algorithm::kES256);
  ASSERT_TRUE(key.ok());
  const int kPerThread = 50000;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!key->Sign(kInput).ok()) std::abort();
      }
    });
  }
  for (auto& th : threads) th.join();
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("ES256 sign, 2 threads: %.0f signatures/s\n", 2 * kPerThread / took.count());
}

}  // namespace
}  // namespace lakegate::crypto
