// Clock: injectable time source. SystemClock is thread-safe; FakeClock is for
// tests (thread-safe: the time is atomic).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace lakegate {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch.
  virtual int64_t NowSeconds() const = 0;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowSeconds() const override;
  int64_t NowMillis() const override;
  // A process-wide instance.
  static const Clock& Get();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_seconds = 1'800'000'000) : millis_(now_seconds * 1000) {}
  int64_t NowSeconds() const override { return millis_.load() / 1000; }
  int64_t NowMillis() const override { return millis_.load(); }
  void Advance(std::chrono::milliseconds by) { millis_ += by.count(); }
  void SetSeconds(int64_t s) { millis_ = s * 1000; }

 private:
  std::atomic<int64_t> millis_;
};

}  // namespace lakegate
