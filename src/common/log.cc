#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "common/thread_annotations.h"

namespace lakegate::log {
namespace {
// Atomic: every log call reads it, without a lock.
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

// Lines reach stderr one whole fwrite at a time under this mutex, so the lines
// of concurrent threads never interleave.
Mutex g_stderr_mutex;

void WriteLineLocked(std::string_view line) REQUIRES(g_stderr_mutex) {
  std::fwrite(line.data(), 1, line.size(), stderr);
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarn:
      return "WARN";
    case Level::kError:
      return "ERROR";
    case Level::kOff:
      return "OFF";
  }
  return "?";
}
}  // namespace

void SetLevel(Level level) { g_level = static_cast<int>(level); }
Level GetLevel() { return static_cast<Level>(g_level.load()); }
bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void Write(Level level, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm;
  gmtime_r(&t, &tm);
  char stamp[96];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  std::string line;
  line.reserve(message.size() + 48);
  line += stamp;
  line += ' ';
  line += LevelName(level);
  line += ' ';
  line += message;
  line += '\n';
  MutexLock lock(g_stderr_mutex);
  WriteLineLocked(line);
}

}  // namespace lakegate::log
