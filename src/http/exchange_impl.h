// ExchangeImpl: the server's Exchange (exchange.h). It carries a handler's
// answer back to the connection: synchronously when the handler answers
// inside its call on the network thread (the fast path: no post, no lock), or
// posted to the connection's shard from any other thread; a stream's pieces
// queue here until the connection writes them, bounded by the high-water mark.
//
// Private to src/http.
//
// Thread-safety: the Exchange members may be called from any thread (see
// exchange.h); the members under "Session side" only on the shard's thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/thread_annotations.h"
#include "http/exchange.h"
#include "http/message.h"
#include "http/shard.h"

namespace lakegate::http::internal {

class ExchangeImpl final : public Exchange, public std::enable_shared_from_this<ExchangeImpl> {
 public:
  // What the session takes out of the exchange for one streaming write.
  struct Batch {
    bool send_head = false;
    int status = 200;
    std::string content_type;
    std::vector<Header> headers;
    std::vector<std::string> chunks;
    bool end = false;
  };

  ExchangeImpl(std::shared_ptr<SessionBase> session, Shard* shard, Request request, bool head_only,
               size_t high_water)
      : session_(std::move(session)),
        shard_(shard),
        request_(std::move(request)),
        head_only_(head_only),
        high_water_(high_water) {}

  ~ExchangeImpl() override {
    // No other thread can hold a reference now, so the plain reads are safe.
    if (!answered_.load(std::memory_order_acquire)) {
      log::Error("http: handler for " + request_.path + " dropped the request without answering");
      Response response;
      response.status = 500;
      response.body = JsonError("server_error");
      shard_->Post(
          [s = session_, r = std::move(response)]() mutable { s->OnAsyncResponse(std::move(r)); });
    } else if (StreamLeftOpen()) {
      shard_->Post([s = session_] { s->OnStreamAbandoned(); });
    }
  }

  const Request& request() const override { return request_; }
  void Respond(Response response) override;
  bool BeginStream(int status, std::string content_type, std::vector<Header> headers) override;
  bool Write(std::string chunk) override;
  void End() override;
  bool ClientGone() const override { return gone_.load(std::memory_order_acquire); }

  // Marks the calling thread as running `exchange`'s handler (null: none), so
  // that a Respond() from inside the handler call takes the fast path.
  static void SetRunningHandler(const ExchangeImpl* exchange) { running_handler_ = exchange; }

  // --- Session side (shard thread) ---

  // Claims the right to answer (used for the 500 after a handler exception).
  bool TryAnswer() { return !answered_.exchange(true, std::memory_order_acq_rel); }

  // The answer given inside the handler call, if any.
  std::optional<Response>& sync_response() { return sync_response_; }

  // Moves the stream's head (once), its queued pieces and its end (once) into
  // `batch`, whose chunks must be empty.
  void TakeBatch(Batch& batch) {
    MutexLock lock(mu_);
    flush_posted_ = false;
    if (begun_ && !head_taken_) {
      head_taken_ = true;
      batch.send_head = true;
      batch.status = status_;
      batch.content_type = std::move(content_type_);
      batch.headers = std::move(headers_);
    }
    batch.chunks.swap(chunks_);  // batch.chunks was empty: keeps both capacities
    if (ended_ && !end_taken_) {
      end_taken_ = true;
      batch.end = true;
    }
  }

  // `bytes` of taken pieces were written: wakes a producer waiting in Write().
  void Consumed(size_t bytes) {
    MutexLock lock(mu_);
    queued_ -= bytes;
    cv_.NotifyAll();
  }

  // The client is gone: every later Write() returns false at once.
  void MarkGone() {
    MutexLock lock(mu_);
    gone_.store(true, std::memory_order_release);
    cv_.NotifyAll();
  }

 private:
  // Runs only in the destructor, when no other thread holds a reference.
  bool StreamLeftOpen() NO_THREAD_SAFETY_ANALYSIS { return begun_ && !ended_; }

  void PostStreamWork();

  static inline constinit thread_local const ExchangeImpl* running_handler_ = nullptr;

  const std::shared_ptr<SessionBase> session_;
  Shard* const shard_;
  const Request request_;
  const bool head_only_;
  const size_t high_water_;
  std::atomic<bool> answered_{false};
  std::atomic<bool> gone_{false};
  std::optional<Response> sync_response_;  // shard thread only

  Mutex mu_;
  CondVar cv_;
  bool begun_ GUARDED_BY(mu_) = false;
  bool ended_ GUARDED_BY(mu_) = false;
  bool head_taken_ GUARDED_BY(mu_) = false;
  bool end_taken_ GUARDED_BY(mu_) = false;
  bool flush_posted_ GUARDED_BY(mu_) = false;
  int status_ GUARDED_BY(mu_) = 200;
  std::string content_type_ GUARDED_BY(mu_);
  std::vector<Header> headers_ GUARDED_BY(mu_);
  std::vector<std::string> chunks_ GUARDED_BY(mu_);
  size_t queued_ GUARDED_BY(mu_) = 0;
};

}  // namespace lakegate::http::internal
