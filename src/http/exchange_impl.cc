#include "http/exchange_impl.h"

#include <utility>

namespace lakegate::http::internal {

void ExchangeImpl::Respond(Response response) {
  if (answered_.exchange(true, std::memory_order_acq_rel)) {
    log::Warn("http: second answer to " + request_.path + " ignored");
    return;
  }
  if (running_handler_ == this) {  // fast path: the session writes it when the handler returns
    sync_response_ = std::move(response);
    return;
  }
  shard_->Post(
      [s = session_, r = std::move(response)]() mutable { s->OnAsyncResponse(std::move(r)); });
}

bool ExchangeImpl::BeginStream(int status, std::string content_type, std::vector<Header> headers) {
  if (answered_.exchange(true, std::memory_order_acq_rel)) return false;
  {
    MutexLock lock(mu_);
    begun_ = true;
    status_ = status;
    content_type_ = std::move(content_type);
    headers_ = std::move(headers);
    flush_posted_ = true;
  }
  PostStreamWork();
  return !gone_.load(std::memory_order_acquire);
}

bool ExchangeImpl::Write(std::string chunk) {
  if (head_only_) return false;
  MutexLock lock(mu_);
  if (gone_.load(std::memory_order_relaxed) || !begun_ || ended_) return false;
  if (chunk.empty()) return true;
  queued_ += chunk.size();
  chunks_.push_back(std::move(chunk));
  if (!flush_posted_) {
    flush_posted_ = true;
    lock.Unlock();
    PostStreamWork();
    lock.Lock();
  }
  // Blocking on the network thread would deadlock it: only workers wait.
  if (!shard_->OnThisThread()) {
    cv_.Wait(mu_, [this]() REQUIRES(mu_) {
      return gone_.load(std::memory_order_relaxed) || queued_ <= high_water_;
    });
  }
  return !gone_.load(std::memory_order_relaxed);
}

void ExchangeImpl::End() {
  {
    MutexLock lock(mu_);
    if (!begun_ || ended_) return;
    ended_ = true;
    if (flush_posted_) return;
    flush_posted_ = true;
  }
  PostStreamWork();
}

void ExchangeImpl::PostStreamWork() {
  bool posted = shard_->Post([s = session_, e = shared_from_this()] { s->OnStreamWork(e); });
  if (!posted) MarkGone();
}

}  // namespace lakegate::http::internal
