// ThreadPool: a fixed set of worker threads for blocking work (SQLite, file
// I/O) so that network threads never block. Submit() never blocks: when the
// queue already holds `max_queue` tasks it refuses (returns false) and the
// caller answers 503/429. Thread-safe. The destructor runs queued tasks, then
// joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lakegate {

class ThreadPool {
 public:
  ThreadPool(size_t threads, size_t max_queue);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`. False when the queue is full or the pool is stopping.
  bool Submit(std::function<void()> task);
  size_t queued() const;

 private:
  void Loop();

  const size_t max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                     // GUARDED_BY(mutex_)
  std::vector<std::thread> threads_;
};

}  // namespace lakegate
