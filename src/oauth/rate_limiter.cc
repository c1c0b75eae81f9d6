#include "oauth/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace lakegate::oauth {

FailureLimiter::FailureLimiter(int per_minute, size_t max_keys)
    : capacity_(std::max(1, per_minute)),
      refill_per_ms_(static_cast<double>(std::max(1, per_minute)) / 60000.0),
      max_keys_(std::max<size_t>(1, max_keys)) {}

double FailureLimiter::Refilled(const Bucket& b, int64_t now_ms) const {
  double elapsed = static_cast<double>(std::max<int64_t>(0, now_ms - b.updated_ms));
  return std::min(capacity_, b.tokens + elapsed * refill_per_ms_);
}

int64_t FailureLimiter::RetryAfter(std::string_view key, int64_t now_ms) const {
  MutexLock lock(mutex_);
  if (buckets_.empty()) return 0;
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) return 0;
  double tokens = Refilled(it->second, now_ms);
  if (tokens >= 1.0) return 0;
  double wait_ms = (1.0 - tokens) / refill_per_ms_;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_ms / 1000.0)));
}

void FailureLimiter::RecordFailure(std::string_view key, int64_t now_ms) {
  MutexLock lock(mutex_);
  std::string k(key);
  auto it = buckets_.find(k);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(k);
    it = buckets_.emplace(std::move(k), Bucket{capacity_, now_ms, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Bucket& b = it->second;
  b.tokens = std::max(0.0, Refilled(b, now_ms) - 1.0);
  b.updated_ms = now_ms;
}

size_t FailureLimiter::tracked_keys() const {
  MutexLock lock(mutex_);
  return buckets_.size();
}

FailedAuthLimits::FailedAuthLimits(ClientAuthLimits limits)
    : client_(limits.failed_per_minute_per_client, limits.max_tracked_keys),
      client_address_(limits.failed_per_minute_per_client_address, limits.max_tracked_keys),
      address_(limits.failed_per_minute_per_address, limits.max_tracked_keys) {}

std::string FailedAuthLimits::PairKey(std::string_view client, std::string_view address) {
  std::string key(client);
  key += '\n';
  key += address;
  return key;
}

int64_t FailedAuthLimits::RefusedFor(std::string_view client, std::string_view address,
                                     int64_t now_ms) const {
  return std::max(client_address_.RetryAfter(PairKey(client, address), now_ms),
                  address_.RetryAfter(address, now_ms));
}

int64_t FailedAuthLimits::RecordFailure(std::string_view client, std::string_view address,
                                        int64_t now_ms) {
  int64_t slow_down = 0;
  if (!client.empty()) {
    slow_down = client_.RetryAfter(client, now_ms);
    client_.RecordFailure(client, now_ms);
    client_address_.RecordFailure(PairKey(client, address), now_ms);
  }
  address_.RecordFailure(address, now_ms);
  return slow_down;
}

}  // namespace lakegate::oauth
