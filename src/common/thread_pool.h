// ThreadPool: a fixed set of worker threads for blocking work (SQLite, file
// I/O) so that network threads never block. Submit() never blocks: when the
// queue already holds `max_queue` tasks it refuses (returns false) and the
// caller answers 503/429. Thread-safe. The destructor runs queued tasks, then
// joins.
//
// Scheduling: tasks start in FIFO order. An idle worker parks on its own
// futex; parked workers form a LIFO stack, and Submit() wakes the most
// recently parked one (its stack and caches are still warm, and the rarely
// needed workers stay asleep), and only when the queue holds more tasks than
// there are workers already woken and on their way to it, so a burst of
// submissions wakes no more threads than it has tasks. A worker that finishes
// a task takes the next queued one without parking. A task that blocks (a slow
// query) never delays queued tasks while any worker is parked: each queued task
// beyond the woken workers wakes one more.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"

namespace lakegate {

class ThreadPool {
 public:
  ThreadPool(size_t threads, size_t max_queue);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`. False when the queue is full or the pool is stopping (the
  // task is then destroyed without running, on the caller's thread).
  bool Submit(std::function<void()> task) EXCLUDES(mutex_);
  size_t queued() const EXCLUDES(mutex_);
  // Worker threads (fixed at construction; at least 1).
  size_t threads() const { return workers_.size(); }
  // Workers parked right now, waiting for a task (tests, metrics).
  size_t parked() const EXCLUDES(mutex_);

 private:
  struct Worker {
    // The futex word (1 = signalled): atomic, so a signal needs no lock.
    std::atomic<uint32_t> wake{0};
    // Written by the constructor and joined by the destructor; workers never touch it.
    std::thread thread;
  };

  void Loop(Worker& self) EXCLUDES(mutex_);

  const size_t max_queue_;
  mutable Mutex mutex_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mutex_);
  std::vector<Worker*> parked_ GUARDED_BY(mutex_);  // back = most recently parked
  size_t waking_ GUARDED_BY(mutex_) = 0;            // signalled, not yet back
  bool stopping_ GUARDED_BY(mutex_) = false;
  // Filled by the constructor before the workers start, never resized: read
  // without the mutex.
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace lakegate
