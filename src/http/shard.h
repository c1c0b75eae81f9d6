// Shard: one network thread of the server with its io_context, its
// SO_REUSEPORT listener, its once-a-second sweep and the list of its
// connections. SessionBase is what a shard knows of a connection.
//
// Private to src/http (Asio stays inside this module).
//
// Thread-safety: everything a shard owns is touched only by its own thread,
// except Post() (any thread), the atomic counters, and the start/stop calls
// made by the server's controlling thread before the thread starts or after
// it has been joined (Listen, local_port, CloseAcceptor, StartThread, Join,
// Drain).
#pragma once

// clang-format off
// <utility> must come before Boost (Boost 1.74 headers use std::exchange).
#include <utility>
// clang-format on

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "http/router.h"
#include "http/server.h"

namespace lakegate::http::internal {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

class ExchangeImpl;
class Shard;

// State shared by every shard and session; immutable after Server::Start()
// except the connection counter.
struct Shared {
  ServerOptions options;
  Router router;
  RequestObserver* observer = nullptr;
  std::unique_ptr<net::ssl::context> ssl;  // null: plain TCP
  std::atomic<size_t> connections{0};
};

// One connection as its shard sees it. Every member runs on the shard's thread.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;

  virtual void Close() = 0;       // abrupt; idempotent
  virtual void OnStopping() = 0;  // the server began a graceful stop
  virtual void OnAsyncResponse(Response response) = 0;
  virtual void OnStreamWork(std::shared_ptr<ExchangeImpl> exchange) = 0;
  virtual void OnStreamAbandoned() = 0;

  // The sweep closes the connection once this has passed.
  SteadyClock::time_point deadline() const { return deadline_; }

 protected:
  friend class Shard;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  std::list<SessionBase*>::iterator link_;
  bool linked_ = false;
};

class Shard : public std::enable_shared_from_this<Shard> {
 public:
  explicit Shard(std::shared_ptr<Shared> shared);

  net::io_context& ioc() { return ioc_; }
  Shared& shared() { return *shared_; }
  // The Date header value, refreshed by the sweep. Shard thread.
  const std::string& date() const { return date_; }
  // True once a graceful or forced stop began. Shard thread.
  bool stopping() const { return stopping_; }
  // Connections open on this shard. Any thread.
  size_t active() const { return active_.load(std::memory_order_acquire); }
  // True when called on this shard's network thread.
  bool OnThisThread() const { return current_ == this; }

  // Runs `f` on this shard's thread. Any thread. Returns false (and drops `f`)
  // once the server has stopped for good.
  template <class F>
  bool Post(F&& f) {
    MutexLock lock(post_mu_);
    if (!accepting_posts_) return false;
    net::post(ioc_, std::forward<F>(f));
    return true;
  }

  // Opens, binds (with SO_REUSEPORT) and listens. Unavailable, naming the
  // address and the fix, when the endpoint cannot be bound.
  Status Listen(const tcp::endpoint& endpoint);
  // The listener's bound port; 0 when not listening.
  uint16_t local_port() const;
  void CloseAcceptor();

  // Starts accepting and sweeping, and the network thread that runs them.
  void StartThread();
  void Join();

  // Shard thread: graceful stop begins (no more accepts, idle connections
  // close, the others finish their request).
  void BeginStop();
  // Shard thread: closes everything and makes the network thread return.
  void ForceStop();
  // Controlling thread, after Join(): refuses further posts and runs what is
  // left (cancelled operations), which releases the sessions' references.
  void Drain();

  // Session bookkeeping. Shard thread.
  void Link(SessionBase* s) {
    s->link_ = sessions_.insert(sessions_.end(), s);
    s->linked_ = true;
  }
  void Unlink(SessionBase* s) {
    if (!s->linked_) return;
    sessions_.erase(s->link_);
    s->linked_ = false;
    active_.fetch_sub(1, std::memory_order_acq_rel);
    shared_->connections.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  template <class F>
  void ForEachSession(F f) {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      SessionBase* s = *it;
      ++it;  // `f` may unlink `s`
      f(s);
    }
  }

  void Run();
  void Accept();
  void OnAccept(const ErrorCode& ec, tcp::socket socket);
  void ArmSweep();
  void Sweep();

  // The shard whose io_context this thread runs (nullptr on other threads).
  static inline constinit thread_local const Shard* current_ = nullptr;

  std::shared_ptr<Shared> shared_;
  net::io_context ioc_;  // declared first: destroyed after the objects using it
  tcp::acceptor acceptor_;
  net::steady_timer timer_;
  net::steady_timer accept_timer_;
  std::thread thread_;
  std::list<SessionBase*> sessions_;  // shard thread only
  std::string date_;                  // shard thread only (after start)
  bool stopping_ = false;             // shard thread only
  // ForceStop ran: the sweep is not re-armed, not even by a timer completion
  // that Drain() runs. Shard thread, then the controlling thread after Join().
  bool stopped_ = false;
  std::atomic<size_t> active_{0};

  Mutex post_mu_;
  bool accepting_posts_ GUARDED_BY(post_mu_) = true;
};

}  // namespace lakegate::http::internal
