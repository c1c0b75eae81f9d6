#include "engine/sqlite/memory_budget.h"

#include <malloc.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>

namespace lakegate::engine::sqlite_internal {
namespace {

// Precedes every block: its size and the id of the budget charged for it
// (0 = none). 16 bytes keep malloc's alignment for what follows.
struct Header {
  uint64_t size;
  uint64_t budget;
};
static_assert(sizeof(Header) == 16);

thread_local MemoryBudget* t_budget = nullptr;
std::atomic<uint64_t> g_next_budget_id{1};

Header* HeaderOf(void* p) { return static_cast<Header*>(p) - 1; }

// The budget of this thread's chain with id `id`, or nullptr: a block is
// credited only to the budget that was charged for it, and only while that
// budget is active.
MemoryBudget* ActiveBudget(uint64_t id) {
  if (id == 0) return nullptr;
  for (MemoryBudget* b = t_budget; b != nullptr; b = b->outer()) {
    if (b->id() == id) return b;
  }
  return nullptr;
}

void* Malloc(int n) {
  if (n <= 0) return nullptr;
  const auto size = static_cast<int64_t>(n);
  MemoryBudget* budget = t_budget;
  if (budget != nullptr && !budget->Charge(size)) return nullptr;
  void* raw = std::malloc(sizeof(Header) + static_cast<size_t>(size));
  if (raw == nullptr) {
    if (budget != nullptr) budget->Charge(-size);
    return nullptr;
  }
  auto* header = static_cast<Header*>(raw);
  header->size = static_cast<uint64_t>(size);
  header->budget = budget != nullptr ? budget->id() : 0;
  return header + 1;
}

void Free(void* p) {
  if (p == nullptr) return;
  Header* header = HeaderOf(p);
  if (MemoryBudget* owner = ActiveBudget(header->budget); owner != nullptr) {
    owner->Charge(-static_cast<int64_t>(header->size));
  }
  std::free(header);
}

// SQLite calls it with p != nullptr and n > 0 only (sqlite3Realloc turns the
// other cases into malloc and free).
void* Realloc(void* p, int n) {
  if (n <= 0) return nullptr;
  Header* header = HeaderOf(p);
  const auto old_size = static_cast<int64_t>(header->size);
  const auto new_size = static_cast<int64_t>(n);
  MemoryBudget* budget = t_budget;
  MemoryBudget* owner = ActiveBudget(header->budget);
  // The block moves to the current budget: charged in full, and credited to
  // the budget that held it.
  const int64_t charge = new_size - (owner == budget ? old_size : 0);
  if (budget != nullptr && !budget->Charge(charge)) return nullptr;
  void* raw = std::realloc(header, sizeof(Header) + static_cast<size_t>(new_size));
  if (raw == nullptr) {
    if (budget != nullptr) budget->Charge(-charge);
    return nullptr;
  }
  if (owner != nullptr && owner != budget) owner->Charge(-old_size);
  header = static_cast<Header*>(raw);
  header->size = static_cast<uint64_t>(new_size);
  if (budget != nullptr) header->budget = budget->id();
  return header + 1;
}

int Size(void* p) { return p == nullptr ? 0 : static_cast<int>(HeaderOf(p)->size); }
int Roundup(int n) { return (n + 7) & ~7; }
int Init(void*) { return SQLITE_OK; }
void Shutdown(void*) {}

const sqlite3_mem_methods kMethods = {&Malloc,  &Free, &Realloc,  &Size,
                                      &Roundup, &Init, &Shutdown, nullptr};

bool Install() {
  // A malloc per TEXT value crosses the governed vtab; SQLite's own memory
  // statistics cost 10-20% there, and the budgets make them unnecessary.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  return sqlite3_config(SQLITE_CONFIG_MALLOC, &kMethods) == SQLITE_OK;
}

// Before main(): SQLite must not be initialised (no connection opened) when
// its allocator is replaced, and nothing opens one before main().
const bool g_installed = Install();

}  // namespace

bool MemoryAccountingInstalled() { return g_installed; }

MemoryBudget::MemoryBudget(int64_t limit_bytes, OverTimeFn over_time, void* arg)
    : limit_(limit_bytes),
      over_time_(over_time),
      arg_(arg),
      id_(g_next_budget_id.fetch_add(1, std::memory_order_relaxed)),
      outer_(t_budget) {
  t_budget = this;
}

MemoryBudget::~MemoryBudget() { t_budget = outer_; }

bool MemoryBudget::Charge(int64_t delta) {
  if (delta > 0) {
    if (late_) return false;
    if (limit_ > 0 && used_ + delta > limit_) {
      exceeded_ = true;
      return false;
    }
    unmetered_ += delta;
    if (unmetered_ >= kCheckEveryBytes) {
      unmetered_ = 0;
      if (over_time_ != nullptr && over_time_(arg_)) {
        late_ = true;  // every later allocation fails too: the statement ends
        return false;
      }
    }
  }
  used_ += delta;
  if (used_ > peak_) peak_ = used_;
  return true;
}

void ReleaseFreeHeap() { ::malloc_trim(0); }

}  // namespace lakegate::engine::sqlite_internal
