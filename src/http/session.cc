// Session<Stream>, Stream = TCP socket or TLS stream, serves one request at a
// time on its shard's thread. Worker threads reach a session only through
// Shard::Post, carrying a shared_ptr that keeps it alive.
#include "http/session.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/strings.h"
#include "http/error_response.h"
#include "http/exchange_impl.h"
#include "http/request_parser.h"

namespace lakegate::http::internal {
namespace {

// Timeouts: each session has a deadline that the sweep compares with the clock;
// no per-operation timers (they cost 15-18 us per request, perf-anchors §4).
constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxLingerBytes = 1 << 20;
constexpr std::chrono::seconds kLingerTime{2};
const std::string kUnmatched = "unmatched";

// ---------------------------------------------------------------------------
// Response serialization helpers.

bool IsTokenChar(char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
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
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

// Headers whose framing meaning is owned by the server.
bool IsFramingHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
         EqualsIgnoreCase(name, "connection");
}

// False when a handler's status or headers cannot be sent as they are (the
// server answers 500 instead).
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

// The certificates the TLS peer presented, DER, its own first; null when none.
std::shared_ptr<const std::vector<std::string>> PeerCertificates(SSL* ssl) {
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) return nullptr;
  auto out = std::make_shared<std::vector<std::string>>();
  auto append = [&](X509* cert) {
    unsigned char* der = nullptr;
    int n = i2d_X509(cert, &der);
    if (n <= 0) return;
    out->emplace_back(reinterpret_cast<char*>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
  };
  append(leaf);
  // On a server the peer's chain leaves its own certificate out.
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      X509* cert = sk_X509_value(chain, i);
      if (X509_cmp(cert, leaf) != 0) append(cert);
    }
  }
  if (out->empty()) return nullptr;
  return out;
}

using PlainStream = tcp::socket;
using TlsStream = net::ssl::stream<tcp::socket>;

template <class Stream>
class Session final : public SessionBase {
 public:
  static constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

  Session(std::shared_ptr<Shard> shard, tcp::socket socket) requires(!kIsTls)
      : shard_(std::move(shard)), opts_(shard_->shared().options), stream_(std::move(socket)) {}

  Session(std::shared_ptr<Shard> shard, tcp::socket socket, net::ssl::context& ctx) requires(kIsTls)
      : shard_(std::move(shard)),
        opts_(shard_->shared().options),
        stream_(std::move(socket), ctx) {}

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
        self->client_certificates_ = PeerCertificates(self->stream_.native_handle());
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
        auto [end, ec] =
            std::to_chars(prefix.data(), prefix.data() + prefix.size() - 2, chunk.size(), 16);
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
    log::Warn("http: handler for " + *route_name_ +
              " abandoned its stream; closing the connection");
    status_ = 500;
    NotifyObserver();
    Close();
  }

 private:
  enum class State {
    kHandshake,
    kIdle,
    kReading,
    kHandling,
    kWriting,
    kStreaming,
    kClosing,
    kClosed
  };

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
    stream_.async_read_some(
        buffer_.prepare(kReadChunk),
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
    ErrorFamily family = ErrorFamily::kOAuth;
    Status refused;
    if (ec == bhttp::error::header_limit) {
      refused =
          HttpError(HttpFailure::kHeadersTooLarge,
                    "request line and headers exceed " + std::to_string(opts_.max_header_bytes) +
                        " bytes or " + std::to_string(kMaxHeaderCount) + " fields");
    } else if (ec == bhttp::error::body_limit) {
      refused = HttpError(HttpFailure::kBodyTooLarge,
                          "request body exceeds " + std::to_string(parser_->limit()) + " bytes");
      if (const PathRoutes* routes = parser_->routes()) {
        if (const Route* route = routes->Find(request_.method)) {
          family = route->options.error_family;
        }
      }
    } else {
      refused = HttpError(HttpFailure::kMalformed, "malformed HTTP request: " + ec.message());
    }
    WriteResponse(ErrorResponse(refused, family), true);
  }

  void Dispatch() {
    keep_alive_ = parser_->keep_alive();
    version_ = request_.version;
    const Method method = request_.method;
    head_only_ = method == Method::kHead;
    const PathRoutes* routes = parser_->routes();
    if (routes == nullptr) {
      WriteResponse(ErrorResponse(HttpError(HttpFailure::kNoRoute, "no route for " + request_.path),
                                  ErrorFamily::kOAuth),
                    false);
      return;
    }
    const Route* route = routes->Find(method);
    if (route == nullptr) {
      Response response;
      if (method == Method::kOptions) {
        response.status = 204;
        response.content_type.clear();
      } else {
        response = ErrorResponse(HttpError(HttpFailure::kMethodNotAllowed,
                                           request_.method_text + " is not allowed for " +
                                               request_.path + "; allowed: " + routes->allow()),
                                 ErrorFamily::kOAuth);
      }
      response.headers.push_back(Header{"Allow", routes->allow()});
      WriteResponse(std::move(response), false);
      return;
    }

    route_name_ = &route->path;
    request_.remote_address = remote_address_;
    request_.secure = kIsTls;
    request_.client_certificates = client_certificates_;
    state_ = State::kHandling;
    deadline_ = SteadyClock::time_point::max();  // the handler decides how long it takes
    auto exchange =
        std::make_shared<ExchangeImpl>(shared_from_this(), shard_.get(), std::move(request_),
                                       head_only_, opts_.stream_high_water_bytes);
    current_ = exchange;
    bool threw = false;
    ExchangeImpl::SetRunningHandler(exchange.get());
    try {
      route->handler(exchange);
    } catch (const std::exception& e) {
      threw = true;
      log::Error("http: handler for " + route->path + " threw: " + e.what());
    } catch (...) {
      threw = true;
      log::Error("http: handler for " + route->path + " threw a non-standard exception");
    }
    ExchangeImpl::SetRunningHandler(nullptr);
    if (auto& sync = exchange->sync_response(); sync.has_value()) {
      Response response = std::move(*sync);
      sync.reset();
      WriteResponse(std::move(response), false);
      return;
    }
    if (threw && exchange->TryAnswer()) {
      WriteResponse(ErrorResponse(HttpError(HttpFailure::kHandlerFailed, "the handler threw"),
                                  route->options.error_family),
                    false);
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
      response = ErrorResponse(HttpError(HttpFailure::kHandlerFailed, "invalid response head"),
                               ErrorFamily::kOAuth);
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
  std::shared_ptr<const std::vector<std::string>> client_certificates_;  // TLS only
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

}  // namespace

void StartSession(std::shared_ptr<Shard> shard, tcp::socket socket) {
  if (net::ssl::context* tls = shard->shared().ssl.get()) {
    std::make_shared<Session<TlsStream>>(std::move(shard), std::move(socket), *tls)->Start();
  } else {
    std::make_shared<Session<PlainStream>>(std::move(shard), std::move(socket))->Start();
  }
}

}  // namespace lakegate::http::internal
