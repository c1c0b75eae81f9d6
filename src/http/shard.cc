#include "http/shard.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <ctime>
#include <exception>

#include "common/log.h"
#include "http/session.h"

namespace lakegate::http::internal {
namespace {

constexpr std::chrono::seconds kSweepPeriod{1};

// The Date header's value for `t` (RFC 9110 §5.6.7).
std::string FormatHttpDate(std::time_t t) {
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

}  // namespace

Shard::Shard(std::shared_ptr<Shared> shared)
    : shared_(std::move(shared)), ioc_(1), acceptor_(ioc_), timer_(ioc_), accept_timer_(ioc_) {
  date_ = FormatHttpDate(std::time(nullptr));
}

Status Shard::Listen(const tcp::endpoint& endpoint) {
  ErrorCode ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) {
    int one = 1;
    if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      ec = ErrorCode(errno, boost::system::system_category());
    }
  }
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    ErrorCode ignored;
    acceptor_.close(ignored);
    return UnavailableError("http: cannot listen on " + endpoint.address().to_string() + ":" +
                            std::to_string(endpoint.port()) + ": " + ec.message() +
                            "; choose another address/port or stop the process using it");
  }
  return Status::Ok();
}

uint16_t Shard::local_port() const {
  ErrorCode ec;
  auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Shard::CloseAcceptor() {
  ErrorCode ignored;
  acceptor_.close(ignored);
}

void Shard::StartThread() {
  Accept();
  ArmSweep();
  thread_ = std::thread([this] { Run(); });
}

void Shard::Join() {
  if (thread_.joinable()) thread_.join();
}

void Shard::BeginStop() {
  stopping_ = true;
  CloseAcceptor();
  accept_timer_.cancel();
  ForEachSession([](SessionBase* s) { s->OnStopping(); });
}

void Shard::ForceStop() {
  stopping_ = true;
  stopped_ = true;
  CloseAcceptor();
  accept_timer_.cancel();
  ForEachSession([](SessionBase* s) { s->Close(); });
  timer_.cancel();
  ioc_.stop();
}

void Shard::Drain() {
  {
    MutexLock lock(post_mu_);
    accepting_posts_ = false;
  }
  ioc_.restart();
  try {
    ioc_.poll();
  } catch (const std::exception& e) {
    log::Error(std::string("http: error while draining: ") + e.what());
  }
}

void Shard::Run() {
  current_ = this;
  for (;;) {
    try {
      ioc_.run();
      break;
    } catch (const std::exception& e) {
      log::Error(std::string("http: network thread caught: ") + e.what());
    }
  }
  current_ = nullptr;
}

void Shard::Accept() {
  acceptor_.async_accept([self = shared_from_this()](const ErrorCode& ec, tcp::socket socket) {
    self->OnAccept(ec, std::move(socket));
  });
}

void Shard::OnAccept(const ErrorCode& ec, tcp::socket socket) {
  if (stopping_ || !acceptor_.is_open()) return;
  if (ec) {
    if (ec == net::error::operation_aborted) return;
    // EMFILE and friends: back off briefly instead of spinning.
    log::Warn("http: accept failed: " + ec.message());
    accept_timer_.expires_after(std::chrono::milliseconds(50));
    accept_timer_.async_wait([self = shared_from_this()](const ErrorCode& e) {
      if (!e && !self->stopping_) self->Accept();
    });
    return;
  }
  if (shared_->connections.load(std::memory_order_relaxed) >= shared_->options.max_connections) {
    ErrorCode ignored;
    socket.close(ignored);
    Accept();
    return;
  }
  ErrorCode ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  shared_->connections.fetch_add(1, std::memory_order_relaxed);
  active_.fetch_add(1, std::memory_order_acq_rel);
  StartSession(shared_from_this(), std::move(socket));
  Accept();
}

void Shard::ArmSweep() {
  timer_.expires_after(kSweepPeriod);
  timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    // A completion queued before ForceStop's cancel arrives here without an
    // error code; re-arming then would keep the shard alive through its own
    // io_context.
    if (ec || self->ioc_.stopped() || self->stopped_) return;
    self->Sweep();
    self->ArmSweep();
  });
}

void Shard::Sweep() {
  date_ = FormatHttpDate(std::time(nullptr));
  auto now = SteadyClock::now();
  ForEachSession([now](SessionBase* s) {
    if (s->deadline() <= now) s->Close();
  });
}

}  // namespace lakegate::http::internal
