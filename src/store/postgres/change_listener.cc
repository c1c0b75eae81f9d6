#include "store/postgres/change_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>

#include "common/log.h"
#include "store/postgres/schema.h"

namespace lakegate::store::postgres {

ChangeListener::ChangeListener(ConnectOptions options, std::function<void()> on_change)
    : options_(std::move(options)), on_change_(std::move(on_change)) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  Connect();
  thread_ = std::thread([this] { Loop(); });
}

ChangeListener::~ChangeListener() {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t written = write(wake_fd_, &one, sizeof one);
    (void)written;
  }
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

bool ChangeListener::Connect() {
  Result<std::unique_ptr<Connection>> conn = Connection::Open(options_);
  if (!conn.ok()) return false;
  const std::string listen = std::string("LISTEN ") + kChangeChannel;
  if (!(*conn)->Run("cannot listen for changes", listen.c_str()).ok()) return false;
  conn_ = std::move(*conn);
  return true;
}

bool ChangeListener::Wait(int fd, int timeout_ms) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
  int count = poll(fds, fd >= 0 ? 2 : 1, timeout_ms);
  (void)count;
  return !stopping_;
}

void ChangeListener::Loop() {
  int backoff_ms = 100;
  bool lost_logged = false;
  while (!stopping_) {
    if (!conn_) {
      if (!Wait(-1, backoff_ms)) break;
      if (!Connect()) {
        backoff_ms = std::min(backoff_ms * 2, 1000);
        continue;
      }
      backoff_ms = 100;
      log::Info("state store change notifications resumed");
      lost_logged = false;
      on_change_();  // hints sent while we were away are lost: re-read now
      continue;
    }
    const int socket = PQsocket(conn_->raw());
    if (!Wait(socket, 1000)) break;
    if (PQconsumeInput(conn_->raw()) == 0 || !conn_->Healthy()) {
      conn_.reset();
      if (!lost_logged) {
        log::Warn(
            "state store change notifications lost (the database connection dropped); "
            "reconnecting, polling meanwhile");
        lost_logged = true;
      }
      on_change_();  // readers find out for themselves whether the store answers
      continue;
    }
    bool notified = false;
    while (PGnotify* notify = PQnotifies(conn_->raw())) {
      notified = true;
      PQfreemem(notify);
    }
    if (notified) on_change_();
  }
  conn_.reset();
}

}  // namespace lakegate::store::postgres
