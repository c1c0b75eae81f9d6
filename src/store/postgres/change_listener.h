// ChangeListener: LISTEN lakegate_state_changed on a connection of its own and
// run a callback for every notification (Store::SubscribeToChanges).
//
// Thread-safe: one thread of its own runs the callback; the destructor stops
// it and waits for a running callback. When the connection drops it runs the
// callback once (readers re-read when they can), reconnects with a bounded
// backoff, and runs the callback again after LISTEN is back (hints sent
// meanwhile are lost, so readers re-read).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "store/postgres/connection.h"
#include "store/store.h"

namespace lakegate::store::postgres {

class ChangeListener final : public Store::Subscription {
 public:
  // Tries to connect and LISTEN before returning (so a change committed after
  // this returns is notified when the database answers), then keeps trying in
  // the background if that failed.
  ChangeListener(ConnectOptions options, std::function<void()> on_change);
  ~ChangeListener() override;

 private:
  // Connects and LISTENs; false (and no connection) on failure.
  bool Connect();
  void Loop();
  // Waits for the socket (or only the stop signal when `fd` < 0) up to
  // `timeout_ms`; false when stopping.
  bool Wait(int fd, int timeout_ms);

  const ConnectOptions options_;
  const std::function<void()> on_change_;
  std::unique_ptr<Connection> conn_;  // used by the listener thread only (after start)
  int wake_fd_ = -1;                  // eventfd: the destructor wakes the thread
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace lakegate::store::postgres
