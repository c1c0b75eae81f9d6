// AuditLog: one JSON object per line, appended to a file (mode 0600) or
// written to stdout. Record() never blocks on I/O: lines go to an in-memory
// buffer that a background thread writes out every 50 ms or when 256 KiB are
// pending. If the writer falls behind by more than `max_pending_bytes`, new
// lines are dropped and counted (dropped()), so a slow disk can never stall
// the request path. Thread-safe.
//
// Audit lines never contain a secret or a token (callers are responsible; the
// builders in audit/events.h only take safe fields).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace lakegate::audit {

class AuditLog {
 public:
  // `path` "-" writes to stdout; "" disables the log (Record() is a no-op).
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path,
                                                size_t max_pending_bytes = 64u << 20);
  ~AuditLog();  // flushes and joins the writer

  // Appends `json_object` plus a newline; with a node name set, the object
  // gets a last member "node" (every line says which node wrote it).
  void Record(std::string_view json_object) EXCLUDES(mutex_);
  // Names this process's node in the lines recorded from now on.
  void SetNode(std::string_view node) EXCLUDES(mutex_);
  // Blocks until everything recorded so far is written (tests, shutdown).
  void Flush() EXCLUDES(mutex_);
  uint64_t dropped() const { return dropped_.load(); }
  uint64_t written_lines() const { return written_lines_.load(); }

 private:
  AuditLog(int fd, bool owns_fd, size_t max_pending_bytes);
  void WriterLoop() EXCLUDES(mutex_);

  const int fd_;
  const bool owns_fd_;
  const size_t max_pending_bytes_;
  Mutex mutex_;
  CondVar wake_;     // the writer: lines are pending, a flush is asked for, or stopping
  CondVar flushed_;  // Flush(): written_seq_ moved
  std::string pending_ GUARDED_BY(mutex_);
  std::string node_member_ GUARDED_BY(mutex_);  // `,"node":"..."`, or "" without a node
  uint64_t pending_lines_ GUARDED_BY(mutex_) = 0;
  uint64_t enqueued_seq_ GUARDED_BY(mutex_) = 0;
  uint64_t written_seq_ GUARDED_BY(mutex_) = 0;
  bool stopping_ GUARDED_BY(mutex_) = false;
  // Counters: atomic, so dropped() and written_lines() read them without the mutex.
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_lines_{0};
  // Started by the constructor, joined by the destructor.
  std::thread writer_;
};

}  // namespace lakegate::audit
