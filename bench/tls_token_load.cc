// Token-endpoint load over HTTPS with an optional TLS client certificate
// (wrk cannot present one): THREADS threads, each with one keep-alive libcurl
// handle, POST token requests for DURATION seconds and record latencies.
// Prints one line in the format of bench/wrk/report.lua:
//   RESULT rps=... p50_us=... p90_us=... p99_us=... max_us=... requests=... non2xx=... sock_err=...
//
// Usage: tls_token_load URL THREADS SECONDS CAFILE BODY [AUTHORIZATION] [CERT KEY]
//   BODY is the form body; AUTHORIZATION ("" = none) the Authorization header;
//   CERT/KEY the client certificate and key (PEM) to present.
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

struct ThreadResult {
  std::vector<int64_t> latencies_us;
  int64_t non2xx = 0;
  int64_t errors = 0;
};

void Run(const std::vector<std::string>& args, std::chrono::steady_clock::time_point end,
         ThreadResult& out) {
  const std::string& url = args[1];
  const std::string& ca = args[4];
  const std::string& body = args[5];
  const std::string auth = args.size() > 6 ? args[6] : "";
  const std::string cert = args.size() > 8 ? args[7] : "";
  const std::string key = args.size() > 8 ? args[8] : "";
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return;
  curl_slist* headers =
      curl_slist_append(nullptr, "Content-Type: application/x-www-form-urlencoded");
  if (!auth.empty()) headers = curl_slist_append(headers, ("Authorization: " + auth).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  if (!cert.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, key.c_str());
  }
  while (std::chrono::steady_clock::now() < end) {
    auto t0 = std::chrono::steady_clock::now();
    CURLcode rc = curl_easy_perform(curl);
    auto t1 = std::chrono::steady_clock::now();
    if (rc != CURLE_OK) {
      ++out.errors;
      continue;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) ++out.non2xx;
    out.latencies_us.push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (argc < 6 || argc == 8 || argc > 9) {
    std::fprintf(stderr,
                 "usage: tls_token_load URL THREADS SECONDS CAFILE BODY [AUTHORIZATION] "
                 "[CERT KEY]\n");
    return 2;
  }
  const int threads = std::max(1, std::atoi(argv[2]));
  const int seconds = std::max(1, std::atoi(argv[3]));
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  std::vector<ThreadResult> results(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  for (auto& result : results) workers.emplace_back([&] { Run(args, end, result); });
  for (auto& w : workers) w.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<int64_t> all;
  int64_t non2xx = 0, errors = 0;
  for (const auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    non2xx += r.non2xx;
    errors += r.errors;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) -> int64_t {
    if (all.empty()) return 0;
    return all[std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())))];
  };
  std::printf(
      "RESULT rps=%.1f p50_us=%lld p90_us=%lld p99_us=%lld max_us=%lld requests=%zu "
      "non2xx=%lld sock_err=%lld\n",
      static_cast<double>(all.size()) / elapsed, static_cast<long long>(pct(0.50)),
      static_cast<long long>(pct(0.90)), static_cast<long long>(pct(0.99)),
      static_cast<long long>(all.empty() ? 0 : all.back()), all.size(),
      static_cast<long long>(non2xx), static_cast<long long>(errors));
  curl_global_cleanup();
  return 0;
}
