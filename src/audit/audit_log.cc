#include "audit/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/log.h"
#include "common/strings.h"

namespace lakegate::audit {

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path,
                                                 size_t max_pending_bytes) {
  if (path.empty()) return std::unique_ptr<AuditLog>(new AuditLog(-1, false, max_pending_bytes));
  if (path == "-") return std::unique_ptr<AuditLog>(new AuditLog(1, false, max_pending_bytes));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return InternalError("cannot open audit log " + path + ": " + std::strerror(errno) +
                         "; check that its directory exists and is writable");
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd, true, max_pending_bytes));
}

AuditLog::AuditLog(int fd, bool owns_fd, size_t max_pending_bytes)
    : fd_(fd), owns_fd_(owns_fd), max_pending_bytes_(max_pending_bytes) {
  if (fd_ >= 0) writer_ = std::thread([this] { WriterLoop(); });
}

AuditLog::~AuditLog() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
  }
  wake_.NotifyAll();
  if (writer_.joinable()) writer_.join();
  if (owns_fd_) ::close(fd_);
}

void AuditLog::Record(std::string_view json_object) {
  if (fd_ < 0) return;
  bool wake = false;
  {
    MutexLock lock(mutex_);
    if (pending_.size() + json_object.size() + node_member_.size() + 1 > max_pending_bytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (!node_member_.empty() && json_object.size() >= 2 && json_object.back() == '}') {
      pending_.append(json_object.substr(0, json_object.size() - 1));
      pending_.append(node_member_);
      pending_.push_back('}');
    } else {
      pending_.append(json_object);
    }
    pending_.push_back('\n');
    ++pending_lines_;
    ++enqueued_seq_;
    wake = pending_.size() >= (256u << 10);
  }
  if (wake) wake_.NotifyOne();
}

void AuditLog::SetNode(std::string_view node) {
  MutexLock lock(mutex_);
  node_member_ = node.empty() ? std::string() : ",\"node\":" + JsonQuote(node);
}

void AuditLog::Flush() {
  if (fd_ < 0) return;
  MutexLock lock(mutex_);
  uint64_t target = enqueued_seq_;
  wake_.NotifyOne();
  flushed_.Wait(mutex_, [&]() REQUIRES(mutex_) { return written_seq_ >= target || stopping_; });
}

void AuditLog::WriterLoop() {
  std::string batch;
  MutexLock lock(mutex_);
  while (true) {
    wake_.WaitFor(mutex_, std::chrono::milliseconds(50), [&]() REQUIRES(mutex_) {
      return stopping_ || pending_.size() >= (256u << 10) || enqueued_seq_ > written_seq_;
    });
    if (pending_.empty()) {
      written_seq_ = enqueued_seq_;
      flushed_.NotifyAll();
      if (stopping_) return;
      continue;
    }
    batch.swap(pending_);
    uint64_t lines = pending_lines_;
    uint64_t seq = enqueued_seq_;
    pending_lines_ = 0;
    lock.Unlock();
    size_t done = 0;
    while (done < batch.size()) {
      ssize_t n = ::write(fd_, batch.data() + done, batch.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        log::Error(std::string("audit log write failed: ") + std::strerror(errno));
        dropped_.fetch_add(lines, std::memory_order_relaxed);
        lines = 0;
        break;
      }
      done += static_cast<size_t>(n);
    }
    written_lines_.fetch_add(lines, std::memory_order_relaxed);
    batch.clear();
    lock.Lock();
    written_seq_ = seq;
    flushed_.NotifyAll();
  }
}

}  // namespace lakegate::audit
