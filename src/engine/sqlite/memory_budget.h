// Internal to engine/sqlite: lakegate's own accounting of SQLite's heap, so
// that one statement cannot take more memory than its budget.
//
// SQLite's heap limits (sqlite3_hard_heap_limit64) are process-wide. Instead,
// SQLite is configured (SQLITE_CONFIG_MALLOC) with an allocator that charges
// every allocation made on a thread while a MemoryBudget is active there to
// that budget, and refuses an allocation that would take the budget over its
// limit: SQLite then fails the statement with SQLITE_NOMEM. A block carries
// its size and the budget that was charged for it in a header, so freeing it
// credits that budget only (never a later statement's, on this thread or
// another); a block the statement keeps (a cached plan, a page cache that
// grew) stays charged until the statement ends. The budget therefore bounds
// the memory one statement holds at any moment, whatever it allocates and
// frees along the way.
//
// The allocator is also a work meter: every kCheckEveryBytes of allocation
// it calls the budget's `over_time` hook, and refuses the allocation when the
// hook says the statement is past its deadline. Built-in functions that
// build large values run as one virtual-machine step, out of reach of the
// progress handler; this stops a statement made of many of them.
//
// The allocator is installed before main() (a static initializer of this
// library), so before any SQLite connection of the process is opened.
// Thread-safety: a MemoryBudget belongs to the thread that created it and
// is active there until it is destroyed; budgets nest.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lakegate::engine::sqlite_internal {

// True when SQLite runs on the accounting allocator (false only when SQLite
// was initialised before this library's static initializers ran).
bool MemoryAccountingInstalled();

class MemoryBudget {
 public:
  // Called with `arg` when the statement allocated another kCheckEveryBytes;
  // true = past the deadline: the allocation is refused.
  using OverTimeFn = bool (*)(void* arg);
  static constexpr int64_t kCheckEveryBytes = int64_t{4} << 20;

  // Active on this thread from construction to destruction. `limit_bytes`
  // <= 0 = no limit (the work meter still runs).
  MemoryBudget(int64_t limit_bytes, OverTimeFn over_time, void* arg);
  ~MemoryBudget();
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  int64_t limit() const { return limit_; }
  // Bytes charged and not yet freed, and the most there ever was.
  int64_t used() const { return used_; }
  int64_t peak() const { return peak_; }
  // An allocation was refused because of the limit.
  bool exceeded() const { return exceeded_; }

  // The allocator's side (memory_budget.cc); not for other callers.
  // Charges `delta` bytes (credits when negative); false, charging nothing,
  // when the limit or the deadline refuses it.
  bool Charge(int64_t delta);
  uint64_t id() const { return id_; }
  MemoryBudget* outer() const { return outer_; }

 private:
  const int64_t limit_;
  const OverTimeFn over_time_;
  void* const arg_;
  const uint64_t id_;  // tags the blocks charged to this budget
  MemoryBudget* const outer_;
  int64_t used_ = 0;
  int64_t peak_ = 0;
  int64_t unmetered_ = 0;  // bytes allocated since the last deadline check
  bool exceeded_ = false;
  bool late_ = false;  // the over_time hook said the deadline passed
};

// Returns the free memory of the C heap to the system (glibc's malloc_trim):
// after a statement that held a lot, so a burst does not stay resident.
void ReleaseFreeHeap();

}  // namespace lakegate::engine::sqlite_internal
