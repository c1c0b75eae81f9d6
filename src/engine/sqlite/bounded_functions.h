// Internal to engine/sqlite: replacements for the built-in SQL functions
// that can do quadratic work in one call.
//
// SQLite runs a function call as one virtual-machine step, and its progress
// handler (which enforces the query timeout) runs only between steps, at
// jumps: in SQLite 3.40 one `LIKE '%<5,000 characters>x'` over a 1 MB value
// takes seconds, `instr`, `replace` and `trim` with long arguments minutes.
// The replacements give the same results as the built-ins:
//   like(P, S), like(P, S, E), glob(P, S)  the same matching rules, counting
//                                          every comparison on a WorkMeter
//   instr(H, N), replace(S, P, R)          linear-time substring search
//   trim, ltrim, rtrim (1 and 2 arguments) a lookup set of the characters
// and add the work they do to the session's WorkMeter, which asks whether
// the statement is past its deadline every kCheckEvery units of work; when
// it is, the call fails with SQLITE_INTERRUPT and the statement stops.
//
// Thread-compatible: a WorkMeter belongs to one session (one thread at a time).
#pragma once

#include <sqlite3.h>

#include <cstdint>

namespace lakegate::engine::sqlite_internal {

class WorkMeter {
 public:
  // True when the statement must stop (past its deadline, or cancelled).
  using OverTimeFn = bool (*)(void* arg);
  static constexpr int64_t kCheckEvery = int64_t{1} << 16;

  WorkMeter(OverTimeFn over_time, void* arg) : over_time_(over_time), arg_(arg) {}

  // Adds `units` (about one byte compared or copied each); false when the
  // statement must stop.
  bool Add(int64_t units) {
    pending_ += units;
    if (pending_ < kCheckEvery) return true;
    pending_ = 0;
    return !over_time_(arg_);
  }

 private:
  const OverTimeFn over_time_;
  void* const arg_;
  int64_t pending_ = 0;
};

// Registers the replacements on `db`, with `meter` (which must outlive the
// connection) as their user data. The SQLite result code of the first
// registration that failed, else SQLITE_OK.
int RegisterBoundedFunctions(sqlite3* db, WorkMeter* meter);

}  // namespace lakegate::engine::sqlite_internal
