// Operational log: human-readable lines on stderr ("2026-11-27T14:00:00.123Z WARN
// message"). Thread-safe. Never log secrets or tokens; audit events go to audit/.
#pragma once

#include <string_view>

namespace lakegate::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void SetLevel(Level level);
Level GetLevel();
bool Enabled(Level level);
void Write(Level level, std::string_view message);

inline void Debug(std::string_view m) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, m);
}
inline void Info(std::string_view m) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, m);
}
inline void Warn(std::string_view m) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, m);
}
inline void Error(std::string_view m) {
  if (Enabled(Level::kError)) Write(Level::kError, m);
}

}  // namespace lakegate::log
