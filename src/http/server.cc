// HTTP server on Boost.Beast's request parser and Boost.Asio sockets.
//
// Threading: one Shard per network thread. A shard owns an io_context, an
// SO_REUSEPORT listener, a once-a-second sweep timer and the list of its
// connections; everything a shard owns is touched only by its own thread, except
// Shard::Post (any thread, guarded by post_mu_) and the atomic counters.
//
// A connection (Session<Stream>, Stream = TCP socket or TLS stream) serves one
// request at a time: read and parse, call the handler, write the answer, then
// parse the next request from the buffer (pipelining) or wait for more bytes.
// Worker threads reach a session only through Shard::Post, carrying a
// shared_ptr that keeps it alive.
//
// Timeouts: each session has a deadline that the sweep compares with the clock;
// no per-operation timers (they cost 15-18 us per request, perf-anchors §4).
#include "http/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

// <utility> must come before Asio (Boost 1.74 headers use std::exchange).
#include <utility>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <exception>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <openssl/ssl.h>

#include "common/log.h"
#include "common/strings.h"

namespace lakegate::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxHeaderCount = 100;
constexpr size_t kMaxLingerBytes = 1 << 20;
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::chrono::seconds kSweepPeriod{1};
const std::string kUnmatched = "unmatched";

class Shard;
class ExchangeImpl;

// The exchange whose handler is running on this thread (fast-path detection).
thread_local const ExchangeImpl* t_in_handler = nullptr;
// The shard whose io_context this thread runs (nullptr on other threads).
thread_local const Shard* t_shard = nullptr;

// State shared by every shard and session; immutable after Start() except the
// connection counter.
struct Shared {
  ServerOptions options;
  Router router;
  RequestObserver* observer = nullptr;
  std::unique_ptr<net::ssl::context> ssl;  // null: plain TCP
  std::atomic<size_t> connections{0};
};

// ---------------------------------------------------------------------------
// Request parsing: Beast's basic_parser with callbacks that fill our Request
// directly (no intermediate beast::http::fields) and enforce the route's body
// limit before any body byte is accepted.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  RequestParser(Request& request, const Router& router, size_t max_header_bytes)
      : request_(request), router_(router) {
    eager(true);
    header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    // Enforced per route below. Not boost::none: Beast 1.74 compares
    // `len > body_limit_` with an empty optional as true and refuses every body.
    body_limit(std::numeric_limits<std::uint64_t>::max());
  }

  const PathRoutes* routes() const { return routes_; }
  size_t limit() const { return limit_; }
  bool expect_continue() const { return expect_continue_; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, ErrorCode&) override {
    request_.method_text.assign(method.data(), method.size());
    request_.method = ParseMethod(request_.method_text);
    request_.target.assign(target.data(), target.size());
    size_t q = request_.target.find('?');
    if (q == std::string::npos) {
      request_.path = request_.target;
    } else {
      request_.path.assign(request_.target, 0, q);
      request_.query.assign(request_.target, q + 1);
    }
    request_.version = version;
  }

  void on_response_impl(int, beast::string_view, int, ErrorCode& ec) override {
    ec = bhttp::error::bad_method;  // unreachable for a request parser
  }

  void on_field_impl(bhttp::field f, beast::string_view name, beast::string_view value,
                     ErrorCode& ec) override {
    if (request_.headers.size() >= kMaxHeaderCount) {
      ec = bhttp::error::header_limit;
      return;
    }
    request_.headers.push_back(
        Header{std::string(name.data(), name.size()), std::string(value.data(), value.size())});
    switch (f) {
      case bhttp::field::expect:
        if (EqualsIgnoreCase(std::string_view(value.data(), value.size()), "100-continue")) {
          expect_continue_ = true;
        }
        break;
      case bhttp::field::transfer_encoding:
        saw_transfer_encoding_ = true;
        break;
      case bhttp::field::host:
        // Two Host headers make the request ambiguous (RFC 9112 §3.2).
        if (++host_count_ > 1) ec = bhttp::error::bad_field;
        break;
      default:
        break;
    }
  }

  void on_header_impl(ErrorCode& ec) override {
    // A Transfer-Encoding whose final coding is not chunked leaves the request
    // length unknowable (RFC 9112 §6.3): refuse instead of guessing the framing.
    if (saw_transfer_encoding_ && !chunked()) {
      ec = bhttp::error::bad_transfer_encoding;
      return;
    }
    routes_ = router_.FindPath(request_.path);
    limit_ = RouteOptions{}.max_body_bytes;
    if (routes_ != nullptr) {
      if (const Route* route = routes_->Find(request_.method)) {
        limit_ = route->options.max_body_bytes;
      }
    }
    // Decided from Content-Length before any body byte is read.
    auto length = content_length();
    if (length && *length > limit_) {
      ec = bhttp::error::body_limit;
      return;
    }
    if (length && *length > 0) request_.body.reserve(static_cast<size_t>(*length));
  }

  void on_body_init_impl(const boost::optional<std::uint64_t>&, ErrorCode&) override {}

  std::size_t on_body_impl(beast::string_view body, ErrorCode& ec) override {
    return Append(body, ec);
  }

  void on_chunk_header_impl(std::uint64_t size, beast::string_view, ErrorCode& ec) override {
    if (size > limit_ - request_.body.size()) ec = bhttp::error::body_limit;
  }

  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, ErrorCode& ec) override {
    return Append(body, ec);
  }

  void on_finish_impl(ErrorCode&) override {}

  size_t Append(beast::string_view body, ErrorCode& ec) {
    if (body.size() > limit_ - request_.body.size()) {
      ec = bhttp::error::body_limit;
      return 0;
    }
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  Request& request_;
  const Router& router_;
  const PathRoutes* routes_ = nullptr;
  size_t limit_ = 0;
  int host_count_ = 0;
  bool expect_continue_ = false;
  bool saw_transfer_encoding_ = false;
};

// ---------------------------------------------------------------------------
// Response serialization helpers.

bool IsTokenChar(char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool ValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), IsTokenChar);
}

// Rejects CR, LF, NUL and other control characters (HTAB is allowed): a handler
// must never be able to split the response.
bool ValidHeaderValue(std::string_view value) {
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

// Headers whose framing meaning is owned by the server.
bool IsFramingHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
         EqualsIgnoreCase(name, "connection");
}

bool ValidResponseHead(int status, std::string_view content_type,
                       const std::vector<Header>& headers) {
  if (status < 200 || status > 599) return false;
  if (!ValidHeaderValue(content_type)) return false;
  for (const Header& h : headers) {
    if (!ValidHeaderName(h.name) || !ValidHeaderValue(h.value)) return false;
  }
  return true;
}

bool StatusHasBody(int status) { return status != 204 && status != 304; }

void AppendNumber(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

std::string FormatHttpDate(std::time_t t) {
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

// ---------------------------------------------------------------------------

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;

  // All of these run on the session's shard thread.
  virtual void Close() = 0;                 // abrupt; idempotent
  virtual void OnStopping() = 0;            // the server began a graceful stop
  virtual void OnAsyncResponse(Response response) = 0;
  virtual void OnStreamWork(std::shared_ptr<ExchangeImpl> exchange) = 0;
  virtual void OnStreamAbandoned() = 0;

  SteadyClock::time_point deadline() const { return deadline_; }

 protected:
  friend class Shard;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  std::list<SessionBase*>::iterator link_;
  bool linked_ = false;
};

class Shard : public std::enable_shared_from_this<Shard> {
 public:
  explicit Shard(std::shared_ptr<Shared> shared)
      : shared_(std::move(shared)), ioc_(1), acceptor_(ioc_), timer_(ioc_), accept_timer_(ioc_) {
    date_ = FormatHttpDate(std::time(nullptr));
  }

  net::io_context& ioc() { return ioc_; }
  Shared& shared() { return *shared_; }
  const std::string& date() const { return date_; }
  bool stopping() const { return stopping_; }
  size_t active() const { return active_.load(std::memory_order_acquire); }

  // Runs `f` on this shard's thread. Any thread. Returns false (and drops `f`)
  // once the server has stopped for good.
  template <class F>
  bool Post(F&& f) {
    std::lock_guard<std::mutex> lock(post_mu_);
    if (!accepting_posts_) return false;
    net::post(ioc_, std::forward<F>(f));
    return true;
  }

  Status Listen(const tcp::endpoint& endpoint) {
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

  uint16_t local_port() const {
    ErrorCode ec;
    auto ep = acceptor_.local_endpoint(ec);
    return ec ? 0 : ep.port();
  }

  void CloseAcceptor() {
    ErrorCode ignored;
    acceptor_.close(ignored);
  }

  void StartThread() {
    Accept();
    ArmSweep();
    thread_ = std::thread([this] { Run(); });
  }

  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // Shard thread: graceful stop begins.
  void BeginStop() {
    stopping_ = true;
    CloseAcceptor();
    accept_timer_.cancel();
    ForEachSession([](SessionBase* s) { s->OnStopping(); });
  }

  // Shard thread: closes everything and makes run() return.
  void ForceStop() {
    stopping_ = true;
    CloseAcceptor();
    accept_timer_.cancel();
    ForEachSession([](SessionBase* s) { s->Close(); });
    timer_.cancel();
    ioc_.stop();
  }

  // Controlling thread, after Join(): refuses further posts and runs what is
  // left (cancelled operations), which releases the sessions' references.
  void Drain() {
    {
      std::lock_guard<std::mutex> lock(post_mu_);
      accepting_posts_ = false;
    }
    ioc_.restart();
    try {
      ioc_.poll();
    } catch (const std::exception& e) {
      log::Error(std::string("http: error while draining: ") + e.what());
    }
  }

  // Session bookkeeping (shard thread).
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

  void Run() {
    t_shard = this;
    for (;;) {
      try {
        ioc_.run();
        break;
      } catch (const std::exception& e) {
        log::Error(std::string("http: network thread caught: ") + e.what());
      }
    }
    t_shard = nullptr;
  }

  void Accept();
  void OnAccept(const ErrorCode& ec, tcp::socket socket);

  void ArmSweep() {
    timer_.expires_after(kSweepPeriod);
    timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
      if (ec || self->ioc_.stopped()) return;
      self->Sweep();
      self->ArmSweep();
    });
  }

  void Sweep() {
    date_ = FormatHttpDate(std::time(nullptr));
    auto now = SteadyClock::now();
    ForEachSession([now](SessionBase* s) {
      if (s->deadline() <= now) s->Close();
    });
  }

  std::shared_ptr<Shared> shared_;
  net::io_context ioc_;  // declared first: destroyed after the objects using it
  tcp::acceptor acceptor_;
  net::steady_timer timer_;
  net::steady_timer accept_timer_;
  std::thread thread_;
  std::list<SessionBase*> sessions_;  // shard thread only
  std::string date_;                  // shard thread only (after start)
  bool stopping_ = false;             // shard thread only
  std::atomic<size_t> active_{0};

  std::mutex post_mu_;
  bool accepting_posts_ = true;  // guarded by post_mu_
};

// ---------------------------------------------------------------------------

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
      shard_->Post([s = session_, r = std::move(response)]() mutable {
        s->OnAsyncResponse(std::move(r));
      });
    } else if (begun_ && !ended_) {
      shard_->Post([s = session_] { s->OnStreamAbandoned(); });
    }
  }

  const Request& request() const override { return request_; }

  void Respond(Response response) override {
    if (answered_.exchange(true, std::memory_order_acq_rel)) {
      log::Warn("http: second answer to " + request_.path + " ignored");
      return;
    }
    if (t_in_handler == this) {  // fast path: the session writes it when the handler returns
      sync_response_ = std::move(response);
      return;
    }
    shard_->Post([s = session_, r = std::move(response)]() mutable {
      s->OnAsyncResponse(std::move(r));
    });
  }

  bool BeginStream(int status, std::string content_type, std::vector<Header> headers) override {
    if (answered_.exchange(true, std::memory_order_acq_rel)) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      begun_ = true;
      status_ = status;
      content_type_ = std::move(content_type);
      headers_ = std::move(headers);
      flush_posted_ = true;
    }
    PostStreamWork();
    return !gone_.load(std::memory_order_acquire);
  }

  bool Write(std::string chunk) override {
    if (head_only_) return false;
    std::unique_lock<std::mutex> lock(mu_);
    if (gone_.load(std::memory_order_relaxed) || !begun_ || ended_) return false;
    if (chunk.empty()) return true;
    queued_ += chunk.size();
    chunks_.push_back(std::move(chunk));
    if (!flush_posted_) {
      flush_posted_ = true;
      lock.unlock();
      PostStreamWork();
      lock.lock();
    }
    // Blocking on the network thread would deadlock it: only workers wait.
    if (t_shard != shard_) {
      cv_.wait(lock, [this] {
        return gone_.load(std::memory_order_relaxed) || queued_ <= high_water_;
      });
    }
    return !gone_.load(std::memory_order_relaxed);
  }

  void End() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!begun_ || ended_) return;
      ended_ = true;
      if (flush_posted_) return;
      flush_posted_ = true;
    }
    PostStreamWork();
  }

  bool ClientGone() const override { return gone_.load(std::memory_order_acquire); }

  // --- Session side (shard thread) ---

  // Claims the right to answer (used for the 500 after a handler exception).
  bool TryAnswer() { return !answered_.exchange(true, std::memory_order_acq_rel); }

  std::optional<Response>& sync_response() { return sync_response_; }

  void TakeBatch(Batch& batch) {
    std::lock_guard<std::mutex> lock(mu_);
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

  void Consumed(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    queued_ -= bytes;
    cv_.notify_all();
  }

  void MarkGone() {
    std::lock_guard<std::mutex> lock(mu_);
    gone_.store(true, std::memory_order_release);
    cv_.notify_all();
  }

 private:
  void PostStreamWork() {
    bool posted = shard_->Post([s = session_, e = shared_from_this()] { s->OnStreamWork(e); });
    if (!posted) MarkGone();
  }

  const std::shared_ptr<SessionBase> session_;
  Shard* const shard_;
  const Request request_;
  const bool head_only_;
  const size_t high_water_;
  std::atomic<bool> answered_{false};
  std::atomic<bool> gone_{false};
  std::optional<Response> sync_response_;  // shard thread only

  std::mutex mu_;
  std::condition_variable cv_;
  bool begun_ = false;         // guarded by mu_
  bool ended_ = false;         // guarded by mu_
  bool head_taken_ = false;    // guarded by mu_
  bool end_taken_ = false;     // guarded by mu_
  bool flush_posted_ = false;  // guarded by mu_
  int status_ = 200;           // guarded by mu_
  std::string content_type_;   // guarded by mu_
  std::vector<Header> headers_;        // guarded by mu_
  std::vector<std::string> chunks_;    // guarded by mu_
  size_t queued_ = 0;                  // guarded by mu_
};

// ---------------------------------------------------------------------------

using PlainStream = tcp::socket;
using TlsStream = net::ssl::stream<tcp::socket>;

template <class Stream>
class Session final : public SessionBase {
 public:
  static constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

  Session(std::shared_ptr<Shard> shard, tcp::socket socket)
    requires(!kIsTls)
      : shard_(std::move(shard)), opts_(shard_->shared().options), stream_(std::move(socket)) {}

  Session(std::shared_ptr<Shard> shard, tcp::socket socket, net::ssl::context& ctx)
    requires(kIsTls)
      : shard_(std::move(shard)), opts_(shard_->shared().options), stream_(std::move(socket), ctx) {}

  void Start() {
    shard_->Link(this);
    ErrorCode ec;
    auto endpoint = Socket().remote_endpoint(ec);
    if (!ec) remote_address_ = endpoint.address().to_string();
    if constexpr (kIsTls) {
      state_ = State::kHandshake;
      deadline_ = SteadyClock::now() + opts_.header_timeout;
      stream_.async_handshake(net::ssl::stream_base::server, [self = Self()](const ErrorCode& e) {
        if (self->state_ == State::kClosed) return;
        if (e) {
          self->Close();
          return;
        }
        self->StartRequest();
      });
    } else {
      StartRequest();
    }
  }

  void Close() override {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    shard_->Unlink(this);
    if (auto exchange = current_.lock()) exchange->MarkGone();
    ErrorCode ignored;
    Socket().close(ignored);
  }

  void OnStopping() override {
    if (state_ == State::kIdle || state_ == State::kHandshake) Close();
    // Others finish their request; the response then carries Connection: close.
  }

  void OnAsyncResponse(Response response) override {
    if (state_ != State::kHandling) return;  // closed meanwhile
    WriteResponse(std::move(response), false);
  }

  void OnStreamWork(std::shared_ptr<ExchangeImpl> exchange) override {
    if (state_ == State::kClosed || state_ == State::kClosing) {
      exchange->MarkGone();
      return;
    }
    if (stream_writing_) return;  // the write completion picks the rest up
    batch_.send_head = false;
    batch_.end = false;
    batch_.chunks.clear();
    exchange->TakeBatch(batch_);

    bufs_.clear();
    batch_payload_ = 0;
    if (batch_.send_head) {
      state_ = State::kStreaming;
      stream_chunked_ = version_ >= 11;
      int status = batch_.status;
      if (!ValidResponseHead(status, batch_.content_type, batch_.headers)) {
        log::Error("http: invalid stream head from handler for " + *route_name_);
        status_ = 500;
        Close();
        exchange->MarkGone();
        return;
      }
      status_ = status;
      // HTTP/1.0 has no chunked coding: the end of the body is the connection close.
      close_after_ = !keep_alive_ || !stream_chunked_ || shard_->stopping();
      BuildHead(status, batch_.content_type, batch_.headers, std::nullopt, stream_chunked_);
      bufs_.push_back(net::buffer(head_));
    }
    prefixes_.resize(batch_.chunks.size());
    for (size_t i = 0; i < batch_.chunks.size(); ++i) {
      const std::string& chunk = batch_.chunks[i];
      batch_payload_ += chunk.size();
      if (head_only_) continue;
      if (stream_chunked_) {
        auto& prefix = prefixes_[i];
        auto [end, ec] = std::to_chars(prefix.data(), prefix.data() + prefix.size() - 2, chunk.size(), 16);
        (void)ec;
        end[0] = '\r';
        end[1] = '\n';
        bufs_.push_back(net::buffer(prefix.data(), static_cast<size_t>(end + 2 - prefix.data())));
        bufs_.push_back(net::buffer(chunk));
        bufs_.push_back(net::buffer("\r\n", 2));
      } else {
        bufs_.push_back(net::buffer(chunk));
      }
    }
    if (batch_.end) {
      stream_final_ = true;
      if (stream_chunked_ && !head_only_) bufs_.push_back(net::buffer("0\r\n\r\n", 5));
    }
    if (bufs_.empty()) {
      if (batch_payload_ > 0) exchange->Consumed(batch_payload_);
      batch_payload_ = 0;
      if (stream_final_) FinishStream();
      return;
    }
    stream_writing_ = true;
    deadline_ = SteadyClock::now() + opts_.idle_timeout;
    net::async_write(stream_, bufs_,
                     [self = Self(), exchange = std::move(exchange)](const ErrorCode& ec, size_t) {
                       self->OnStreamWritten(exchange, ec);
                     });
  }

  void OnStreamAbandoned() override {
    if (state_ == State::kClosed) return;
    log::Warn("http: handler for " + *route_name_ + " abandoned its stream; closing the connection");
    status_ = 500;
    NotifyObserver();
    Close();
  }

 private:
  enum class State { kHandshake, kIdle, kReading, kHandling, kWriting, kStreaming, kClosing, kClosed };

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }

  tcp::socket& Socket() {
    if constexpr (kIsTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  // Ready for the next request on this connection (maybe already buffered).
  void StartRequest() {
    request_ = Request{};
    parser_.emplace(request_, shard_->shared().router, opts_.max_header_bytes);
    continue_sent_ = false;
    route_name_ = &kUnmatched;
    if (buffer_.size() == 0) {
      if (shard_->stopping()) {
        GracefulClose();
        return;
      }
      state_ = State::kIdle;
      deadline_ = SteadyClock::now() + opts_.idle_timeout;
      Read();
      return;
    }
    BeginReading();
    Parse();
  }

  void BeginReading() {
    state_ = State::kReading;
    request_start_ = SteadyClock::now();
    deadline_ = request_start_ + opts_.header_timeout;  // slowloris bound: the whole request
  }

  void Parse() {
    while (buffer_.size() > 0) {
      ErrorCode ec;
      size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec) {
        Reject(ec);
        return;
      }
      if (parser_->is_done()) {
        Dispatch();
        return;
      }
      if (used == 0) break;
    }
    if (parser_->is_header_done() && parser_->expect_continue() && !continue_sent_ &&
        request_.version >= 11) {
      SendContinue();
      return;
    }
    Read();
  }

  void Read() {
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = Self()](const ErrorCode& ec, size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const ErrorCode& ec, size_t n) {
    if (state_ == State::kClosed) return;
    if (ec) {  // EOF, reset or cancel: there is nobody to answer
      Close();
      return;
    }
    buffer_.commit(n);
    if (state_ == State::kIdle) BeginReading();
    Parse();
  }

  void SendContinue() {
    continue_sent_ = true;
    static constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(stream_, net::buffer(k100.data(), k100.size()),
                     [self = Self()](const ErrorCode& ec, size_t) {
                       if (self->state_ == State::kClosed) return;
                       if (ec) {
                         self->Close();
                         return;
                       }
                       self->Read();
                     });
  }

  // A request the parser refused: answer and close.
  void Reject(const ErrorCode& ec) {
    keep_alive_ = false;
    head_only_ = false;
    version_ = 11;
    Response response;
    if (ec == bhttp::error::header_limit) {
      response.status = 431;
      response.body = JsonError("request_header_fields_too_large",
                                "request line and headers exceed " +
                                    std::to_string(opts_.max_header_bytes) + " bytes or " +
                                    std::to_string(kMaxHeaderCount) + " fields");
    } else if (ec == bhttp::error::body_limit) {
      response.status = 413;
      response.body = JsonError("payload_too_large", "request body exceeds " +
                                                         std::to_string(parser_->limit()) + " bytes");
    } else {
      response.status = 400;
      response.body = JsonError("bad_request", "malformed HTTP request: " + ec.message());
    }
    WriteResponse(std::move(response), true);
  }

  void Dispatch() {
    keep_alive_ = parser_->keep_alive();
    version_ = request_.version;
    const Method method = request_.method;
    head_only_ = method == Method::kHead;
    const PathRoutes* routes = parser_->routes();
    if (routes == nullptr) {
      Response response;
      response.status = 404;
      response.body = JsonError("not_found", "no route for " + request_.path);
      WriteResponse(std::move(response), false);
      return;
    }
    const Route* route = routes->Find(method);
    if (route == nullptr) {
      Response response;
      response.headers.push_back(Header{"Allow", routes->allow()});
      if (method == Method::kOptions) {
        response.status = 204;
        response.content_type.clear();
      } else {
        response.status = 405;
        response.body = JsonError("method_not_allowed", request_.method_text + " is not allowed for " +
                                                            request_.path + "; allowed: " + routes->allow());
      }
      WriteResponse(std::move(response), false);
      return;
    }

    route_name_ = &route->path;
    request_.remote_address = remote_address_;
    request_.secure = kIsTls;
    state_ = State::kHandling;
    deadline_ = SteadyClock::time_point::max();  // the handler decides how long it takes
    auto exchange = std::make_shared<ExchangeImpl>(shared_from_this(), shard_.get(), std::move(request_),
                                                   head_only_, opts_.stream_high_water_bytes);
    current_ = exchange;
    bool threw = false;
    t_in_handler = exchange.get();
    try {
      route->handler(exchange);
    } catch (const std::exception& e) {
      threw = true;
      log::Error("http: handler for " + route->path + " threw: " + e.what());
    } catch (...) {
      threw = true;
      log::Error("http: handler for " + route->path + " threw a non-standard exception");
    }
    t_in_handler = nullptr;
    if (auto& sync = exchange->sync_response(); sync.has_value()) {
      Response response = std::move(*sync);
      sync.reset();
      WriteResponse(std::move(response), false);
      return;
    }
    if (threw && exchange->TryAnswer()) {
      Response response;
      response.status = 500;
      response.body = JsonError("server_error");
      WriteResponse(std::move(response), false);
      return;
    }
    // Otherwise the answer arrives later through OnAsyncResponse / OnStreamWork.
  }

  // Serializes the status line and headers into head_. `content_length` empty:
  // chunked (if `chunked`) or close-delimited.
  void BuildHead(int status, std::string_view content_type, const std::vector<Header>& headers,
                 std::optional<size_t> content_length, bool chunked) {
    head_.clear();
    head_ += "HTTP/1.1 ";
    AppendNumber(head_, static_cast<uint64_t>(status));
    head_ += ' ';
    head_ += StatusReason(status);
    head_ += "\r\n";
    if (!opts_.server_header.empty()) {
      head_ += "Server: ";
      head_ += opts_.server_header;
      head_ += "\r\n";
    }
    head_ += "Date: ";
    head_ += shard_->date();
    head_ += "\r\n";
    if (!content_type.empty()) {
      head_ += "Content-Type: ";
      head_ += content_type;
      head_ += "\r\n";
    }
    if (content_length) {
      head_ += "Content-Length: ";
      AppendNumber(head_, *content_length);
      head_ += "\r\n";
    } else if (chunked) {
      head_ += "Transfer-Encoding: chunked\r\n";
    }
    if (close_after_) {
      head_ += "Connection: close\r\n";
    } else if (version_ == 10) {
      head_ += "Connection: keep-alive\r\n";
    }
    for (const Header& h : headers) {
      if (IsFramingHeader(h.name)) continue;
      head_ += h.name;
      head_ += ": ";
      head_ += h.value;
      head_ += "\r\n";
    }
    head_ += "\r\n";
  }

  void WriteResponse(Response response, bool force_close) {
    state_ = State::kWriting;
    deadline_ = SteadyClock::now() + opts_.idle_timeout;
    if (!ValidResponseHead(response.status, response.content_type, response.headers)) {
      log::Error("http: invalid response head from handler for " + *route_name_ + " (status " +
                 std::to_string(response.status) + "); answering 500");
      response = Response{};
      response.status = 500;
      response.body = JsonError("server_error");
    }
    status_ = response.status;
    close_after_ = force_close || !keep_alive_ || shard_->stopping();
    const bool has_body = StatusHasBody(status_);
    if (!has_body) response.body.clear();
    BuildHead(status_, response.content_type, response.headers,
              has_body ? std::optional<size_t>(response.body.size()) : std::nullopt, false);
    body_ = std::move(response.body);
    if (head_only_) body_.clear();
    if constexpr (kIsTls) {
      head_ += body_;  // one TLS record instead of two
      body_.clear();
    }
    std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(body_)};
    net::async_write(stream_, buffers,
                     [self = Self()](const ErrorCode& ec, size_t) { self->OnResponseWritten(ec); });
  }

  void OnResponseWritten(const ErrorCode& ec) {
    if (state_ == State::kClosed) return;
    NotifyObserver();
    if (body_.capacity() > 64 * 1024) {
      std::string().swap(body_);
    } else {
      body_.clear();
    }
    if (ec) {
      Close();
      return;
    }
    if (close_after_ || shard_->stopping()) {
      GracefulClose();
      return;
    }
    StartRequest();
  }

  void OnStreamWritten(const std::shared_ptr<ExchangeImpl>& exchange, const ErrorCode& ec) {
    stream_writing_ = false;
    exchange->Consumed(batch_payload_);
    batch_payload_ = 0;
    batch_.chunks.clear();
    if (state_ == State::kClosed) return;
    if (ec) {
      Close();  // marks the exchange gone: the worker's Write returns false
      return;
    }
    if (stream_final_) {
      FinishStream();
      return;
    }
    // Waiting for the producer is not the client's fault: no deadline until the
    // next write starts (OnStreamWork sets one).
    deadline_ = SteadyClock::time_point::max();
    OnStreamWork(exchange);  // whatever was queued meanwhile
  }

  void FinishStream() {
    stream_final_ = false;
    NotifyObserver();
    current_.reset();
    if (close_after_ || shard_->stopping()) {
      GracefulClose();
      return;
    }
    StartRequest();
  }

  void NotifyObserver() {
    RequestObserver* observer = shard_->shared().observer;
    if (observer == nullptr) return;
    std::chrono::duration<double> latency = SteadyClock::now() - request_start_;
    observer->OnRequest(*route_name_, status_, latency.count());
  }

  // Closes after the last response: TLS sends close_notify; TCP half-closes and
  // drains what the client still sends for a moment, so a client that is still
  // uploading sees our error response instead of a reset.
  void GracefulClose() {
    state_ = State::kClosing;
    deadline_ = SteadyClock::now() + kLingerTime;
    if constexpr (kIsTls) {
      stream_.async_shutdown([self = Self()](const ErrorCode&) { self->Close(); });
    } else {
      ErrorCode ignored;
      Socket().shutdown(tcp::socket::shutdown_send, ignored);
      buffer_.consume(buffer_.size());
      linger_bytes_ = 0;
      Linger();
    }
  }

  void Linger() {
    Socket().async_read_some(buffer_.prepare(kReadChunk),
                             [self = Self()](const ErrorCode& ec, size_t n) {
                               if (self->state_ == State::kClosed) return;
                               self->linger_bytes_ += n;
                               if (ec || self->linger_bytes_ > kMaxLingerBytes) {
                                 self->Close();
                                 return;
                               }
                               self->Linger();  // discarded: nothing was committed
                             });
  }

  const std::shared_ptr<Shard> shard_;  // first: outlives the stream below
  const ServerOptions& opts_;
  Stream stream_;
  State state_ = State::kIdle;
  beast::flat_buffer buffer_;
  Request request_;
  std::optional<RequestParser> parser_;
  std::string remote_address_;
  const std::string* route_name_ = &kUnmatched;
  SteadyClock::time_point request_start_ = SteadyClock::now();
  int version_ = 11;
  int status_ = 0;
  bool keep_alive_ = true;
  bool head_only_ = false;
  bool close_after_ = false;
  bool continue_sent_ = false;
  std::string head_;
  std::string body_;
  std::weak_ptr<ExchangeImpl> current_;
  size_t linger_bytes_ = 0;

  // Streaming state.
  bool stream_writing_ = false;
  bool stream_final_ = false;
  bool stream_chunked_ = true;
  ExchangeImpl::Batch batch_;
  std::vector<net::const_buffer> bufs_;
  std::vector<std::array<char, 20>> prefixes_;
  size_t batch_payload_ = 0;
};

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
  if (shared_->ssl) {
    std::make_shared<Session<TlsStream>>(shared_from_this(), std::move(socket), *shared_->ssl)->Start();
  } else {
    std::make_shared<Session<PlainStream>>(shared_from_this(), std::move(socket))->Start();
  }
  Accept();
}

Result<std::unique_ptr<net::ssl::context>> MakeTlsContext(const ServerOptions& options) {
  try {
    auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ErrorCode ec;
    ctx->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) {
      return InvalidArgumentError("http: cannot load TLS certificate " + options.tls_cert_file + ": " +
                                  ec.message() + "; give a readable PEM certificate chain");
    }
    ctx->use_private_key_file(options.tls_key_file, net::ssl::context::pem, ec);
    if (ec) {
      return InvalidArgumentError("http: cannot load TLS private key " + options.tls_key_file + ": " +
                                  ec.message() + "; give a readable, unencrypted PEM private key");
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return InvalidArgumentError("http: TLS private key " + options.tls_key_file +
                                  " does not match certificate " + options.tls_cert_file);
    }
    return ctx;
  } catch (const std::exception& e) {
    return InternalError(std::string("http: cannot set up TLS: ") + e.what());
  }
}

}  // namespace

struct Server::Impl {
  std::shared_ptr<Shared> shared;
  std::vector<std::shared_ptr<Shard>> shards;
  std::atomic<uint16_t> port{0};
  bool started = false;
  bool running = false;
};

Server::Server(ServerOptions options, Router router, RequestObserver* observer)
    : impl_(std::make_unique<Impl>()) {
  impl_->shared = std::make_shared<Shared>();
  impl_->shared->options = std::move(options);
  impl_->shared->router = std::move(router);
  impl_->shared->observer = observer;
}

Server::~Server() { Stop(std::chrono::milliseconds(0)); }

uint16_t Server::port() const { return impl_->port.load(std::memory_order_acquire); }

Status Server::Start() {
  if (impl_->started) return FailedPreconditionError("http: server already started");
  impl_->started = true;
  Shared& shared = *impl_->shared;
  const ServerOptions& options = shared.options;
  if (options.threads < 1 || options.threads > 256) {
    return InvalidArgumentError("http: threads must be between 1 and 256, got " +
                                std::to_string(options.threads));
  }
  ErrorCode ec;
  net::ip::address address = net::ip::make_address(options.address, ec);
  if (ec) {
    return InvalidArgumentError("http: invalid listen address '" + options.address +
                                "'; use an IP literal such as 127.0.0.1, 0.0.0.0 or ::");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return InvalidArgumentError("http: TLS needs both a certificate file and a key file");
  }
  if (!options.tls_cert_file.empty()) {
    LG_ASSIGN_OR_RETURN(shared.ssl, MakeTlsContext(options));
  }

  try {
    // SO_REUSEPORT lets another process that also sets it share a fixed port
    // silently; probe with a plain bind first so a busy port is an error.
    if (options.port != 0) {
      net::io_context probe_ioc(1);
      tcp::acceptor probe(probe_ioc);
      tcp::endpoint endpoint(address, options.port);
      probe.open(endpoint.protocol(), ec);
      if (!ec) probe.set_option(net::socket_base::reuse_address(true), ec);
      if (!ec) probe.bind(endpoint, ec);
      if (ec) {
        return UnavailableError("http: cannot listen on " + options.address + ":" +
                                std::to_string(options.port) + ": " + ec.message() +
                                "; choose another address/port or stop the process using it");
      }
    }
    uint16_t port = options.port;
    for (int i = 0; i < options.threads; ++i) {
      auto shard = std::make_shared<Shard>(impl_->shared);
      Status status = shard->Listen(tcp::endpoint(address, port));
      if (!status.ok()) {
        for (auto& s : impl_->shards) s->CloseAcceptor();
        impl_->shards.clear();
        return status;
      }
      if (port == 0) port = shard->local_port();
      impl_->shards.push_back(std::move(shard));
    }
    impl_->port.store(port, std::memory_order_release);
    for (auto& shard : impl_->shards) shard->StartThread();
  } catch (const std::exception& e) {
    for (auto& s : impl_->shards) s->CloseAcceptor();
    impl_->shards.clear();
    return InternalError(std::string("http: cannot start server: ") + e.what());
  }
  impl_->running = true;
  return Status::Ok();
}

void Server::Stop(std::chrono::milliseconds grace) {
  if (!impl_->running) return;
  impl_->running = false;
  for (auto& shard : impl_->shards) {
    shard->Post([s = shard.get()] { s->BeginStop(); });
  }
  auto deadline = SteadyClock::now() + grace;
  for (;;) {
    size_t active = 0;
    for (auto& shard : impl_->shards) active += shard->active();
    if (active == 0 || SteadyClock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (auto& shard : impl_->shards) {
    shard->Post([s = shard.get()] { s->ForceStop(); });
  }
  for (auto& shard : impl_->shards) shard->Join();
  for (auto& shard : impl_->shards) shard->Drain();
  impl_->shards.clear();
}

}  // namespace lakegate::http
