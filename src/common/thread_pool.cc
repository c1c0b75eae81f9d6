#include "common/thread_pool.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "common/log.h"

namespace lakegate {
namespace {

// The futex word of a std::atomic<uint32_t> (lock-free, so it is the plain
// integer; Linux futexes are private to the process here).
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
uint32_t* FutexWord(std::atomic<uint32_t>& word) { return reinterpret_cast<uint32_t*>(&word); }

// Sleeps while `word` == `expected`; spurious returns are fine (callers loop).
void FutexWait(std::atomic<uint32_t>& word, uint32_t expected) {
  ::syscall(SYS_futex, FutexWord(word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void FutexWakeOne(std::atomic<uint32_t>& word) {
  ::syscall(SYS_futex, FutexWord(word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

}  // namespace

ThreadPool::ThreadPool(size_t threads, size_t max_queue) : max_queue_(max_queue) {
  threads = std::max<size_t>(1, threads);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());
  // Started only once `workers_` is complete: it is never resized afterwards.
  for (auto& w : workers_) w->thread = std::thread([this, worker = w.get()] { Loop(*worker); });
}

ThreadPool::~ThreadPool() {
  std::vector<Worker*> wake;
  {
    MutexLock lock(mutex_);
    stopping_ = true;
    wake.swap(parked_);
    waking_ += wake.size();
  }
  for (Worker* w : wake) {
    w->wake.store(1, std::memory_order_release);
    FutexWakeOne(w->wake);
  }
  // Workers that are running a task drain the queue before they return.
  for (auto& w : workers_) w->thread.join();
}

bool ThreadPool::Submit(std::function<void()> task) {
  Worker* wake = nullptr;
  {
    MutexLock lock(mutex_);
    if (stopping_ || queue_.size() >= max_queue_) return false;
    queue_.push_back(std::move(task));
    // Workers already woken will each take one task; wake another only for
    // a task none of them will take.
    if (queue_.size() > waking_ && !parked_.empty()) {
      wake = parked_.back();
      parked_.pop_back();
      ++waking_;
    }
  }
  if (wake != nullptr) {
    wake->wake.store(1, std::memory_order_release);
    FutexWakeOne(wake->wake);
  }
  return true;
}

size_t ThreadPool::queued() const {
  MutexLock lock(mutex_);
  return queue_.size();
}

size_t ThreadPool::parked() const {
  MutexLock lock(mutex_);
  return parked_.size();
}

void ThreadPool::Loop(Worker& self) {
  MutexLock lock(mutex_);
  while (true) {
    if (!queue_.empty()) {
      std::function<void()> task = std::move(queue_.front());
      queue_.pop_front();
      lock.Unlock();
      // A task that throws is a bug of its submitter: it loses its own work,
      // the worker (and the process) live on.
      try {
        task();
      } catch (const std::exception& e) {
        log::Error(std::string("worker: a task threw: ") + e.what());
      } catch (...) {
        log::Error("worker: a task threw a non-standard exception");
      }
      task = nullptr;  // the captures die before the lock is taken again
      lock.Lock();
      continue;
    }
    if (stopping_) return;  // stopping and drained
    self.wake.store(0, std::memory_order_relaxed);
    parked_.push_back(&self);
    lock.Unlock();
    // Submit() or the destructor pops us from parked_ before it signals, so
    // exactly one signal ends this wait.
    while (self.wake.load(std::memory_order_acquire) == 0) FutexWait(self.wake, 0);
    lock.Lock();
    --waking_;
  }
}

}  // namespace lakegate
