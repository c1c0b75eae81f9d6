// What every fuzz target in tests/fuzz shares: the libFuzzer entry point each
// one defines, and a small reader that splits one input into the parts a
// target needs (a selector byte, newline-separated fields, the rest).
//
// A target is built twice: with clang and -fsanitize=fuzzer (LAKEGATE_FUZZ=ON,
// scripts/fuzz.sh) and, in every build, with replay_main.cc as a plain program
// that runs the target's corpus once (CTest label fuzz-smoke). A target must
// therefore be deterministic and must abort (FUZZ_CHECK) only on a real bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// A broken invariant: report it and abort, so libFuzzer keeps the input and
// the replay test fails.
#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

namespace lakegate::fuzz {

// A P-256 private key made for the fuzz targets only (jose, dpop_proof,
// client_assertion), so every run is reproducible. Its public JWK:
// {"kty":"EC","crv":"P-256","x":"mUPUKB570YVBmhPcZwbPBR85rJ3UREwN4DflhCIkamA",
//  "y":"zxQ8poqPNbFzG4l9wqNQgl8HQcGoZPeTBau-STBw6rQ"}
inline constexpr std::string_view kEs256Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUy2ny9hSBr5UISyJ\n"
    "9poIZzsukfm3qjHIs0xKECzBZM6hRANCAASZQ9QoHnvRhUGaE9xnBs8FHzmsndRE\n"
    "TA3gN+WEIiRqYM8UPKaKjzWxcxuJfcKjUIJfB0HBqGT3kwWrvkkwcOq0\n"
    "-----END PRIVATE KEY-----\n";

class Input {
 public:
  Input(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  // The first byte (0 when the input is empty), consumed.
  uint8_t TakeByte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }

  // Up to the next '\n' (consumed, not returned), or everything left.
  std::string_view TakeLine() {
    size_t nl = rest_.find('\n');
    std::string_view line = rest_.substr(0, nl);
    rest_.remove_prefix(nl == std::string_view::npos ? rest_.size() : nl + 1);
    return line;
  }

  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

}  // namespace lakegate::fuzz
