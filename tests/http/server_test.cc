// Server tests: a real Server on 127.0.0.1:0 spoken to over raw sockets, so the
// bytes on the wire (status lines, framing, connection handling) are what is
// checked. Every wait is bounded.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "testing/temp_dir.h"

namespace lakegate::http {
namespace {

using namespace std::chrono_literals;
using ::lakegate::testing::TempDir;

// ---------------------------------------------------------------------------
// A tiny blocking HTTP/1.1 client over a raw socket.

struct ClientResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;

  std::string Get(std::string_view name) const {
    for (const auto& h : headers) {
      if (EqualsIgnoreCase(h.name, name)) return h.value;
    }
    return "";
  }
  bool Has(std::string_view name) const {
    for (const auto& h : headers) {
      if (EqualsIgnoreCase(h.name, name)) return true;
    }
    return false;
  }
};

class Conn {
 public:
  // `rcvbuf` > 0 pins the receive buffer (turns off autotuning) to make a slow reader.
  explicit Conn(uint16_t port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    SetTimeout(5s);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Conn() { Close(); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  void SetTimeout(std::chrono::milliseconds t) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Closes with an RST (SO_LINGER 0): an abrupt client disconnect.
  void Abort() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    Close();
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response (a 1xx is returned as a response of its own). nullopt on
  // EOF, error or timeout before a complete response.
  std::optional<ClientResponse> Read(bool head_request = false) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    ClientResponse r;
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return std::nullopt;
    r.status = std::atoi(status_line.c_str() + 9);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        r.headers.push_back(
            Header{line.substr(0, colon), std::string(TrimWhitespace(line.substr(colon + 1)))});
      }
      pos = e + 2;
    }
    if (r.status < 200 || head_request || r.status == 204 || r.status == 304) return r;
    if (EqualsIgnoreCase(r.Get("Transfer-Encoding"), "chunked")) {
      for (;;) {
        size_t le;
        while ((le = buf_.find("\r\n")) == std::string::npos) {
          if (!Fill()) return std::nullopt;
        }
        size_t size = std::strtoul(buf_.substr(0, le).c_str(), nullptr, 16);
        while (buf_.size() < le + 2 + size + 2) {
          if (!Fill()) return std::nullopt;
        }
        r.body.append(buf_, le + 2, size);
        buf_.erase(0, le + 2 + size + 2);
        if (size == 0) break;
      }
      return r;
    }
    if (r.Has("Content-Length")) {
      size_t length = std::strtoul(r.Get("Content-Length").c_str(), nullptr, 10);
      while (buf_.size() < length) {
        if (!Fill()) return std::nullopt;
      }
      r.body = buf_.substr(0, length);
      buf_.erase(0, length);
      return r;
    }
    while (Fill()) {
    }
    r.body = std::move(buf_);
    buf_.clear();
    return r;
  }

  // True when the server closed the connection (EOF or reset) within `timeout`;
  // any bytes received meanwhile are discarded.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    SetTimeout(100ms);
    while (std::chrono::steady_clock::now() < deadline) {
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return true;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
    }
    return false;
  }

  // Reads exactly `n` raw bytes (beyond what Read() consumed).
  bool ReadRaw(size_t n, std::string& out) {
    while (buf_.size() < n) {
      if (!Fill()) return false;
    }
    out.append(buf_, 0, n);
    buf_.erase(0, n);
    return true;
  }

  std::string& buffer() { return buf_; }

  bool Fill() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string Get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

std::string Post(std::string_view path, std::string_view body, std::string_view extra = "") {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra) + "\r\n" + std::string(body);
}

Response Text(std::string body, int status = 200) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Waits until `pred` holds, up to `timeout`.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class RecordingObserver : public RequestObserver {
 public:
  void OnRequest(std::string_view route, int status, double latency) override {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back(std::string(route) + " " + std::to_string(status));
    EXPECT_GE(latency, 0);
  }
  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
};

// Threads started by handlers; joined when the test ends.
class Workers {
 public:
  ~Workers() { JoinAll(); }
  template <typename F>
  void Run(F f) {
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back(std::move(f));
  }
  void JoinAll() {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

class ServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) server_->Stop(1s);
    workers_.JoinAll();
  }

  // Routes every test shares.
  Router BaseRouter() {
    Router router;
    router.Add(Method::kGet, "/hello", [](std::shared_ptr<Exchange> ex) {
      ex->Respond(Text("{\"hello\":\"" + ex->request().query + "\"}"));
    });
    router.Add(
        Method::kPost, "/echo",
        [](std::shared_ptr<Exchange> ex) { ex->Respond(Text(ex->request().body)); },
        RouteOptions{16});
    router.Add(Method::kPut, "/echo",
               [](std::shared_ptr<Exchange> ex) { ex->Respond(Text(ex->request().body)); });
    router.Add(Method::kGet, "/throw",
               [](std::shared_ptr<Exchange>) -> void { throw std::runtime_error("boom"); });
    router.Add(Method::kGet, "/async", [this](std::shared_ptr<Exchange> ex) {
      workers_.Run([ex] {
        std::this_thread::sleep_for(20ms);
        ex->Respond(Text("{\"async\":true}"));
      });
    });
    router.Add(Method::kGet, "/drop", [](std::shared_ptr<Exchange>) {});
    return router;
  }

  void StartServer(Router router, ServerOptions options = {}, RequestObserver* observer = nullptr) {
    options.address = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(std::move(options), std::move(router), observer);
    Status status = server_->Start();
    ASSERT_TRUE(status.ok()) << status.ToString();
    ASSERT_NE(server_->port(), 0);
  }

  uint16_t port() const { return server_->port(); }

  Workers workers_;
  std::unique_ptr<Server> server_;
};

// ---------------------------------------------------------------------------

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  RecordingObserver observer;
  StartServer(BaseRouter(), {}, &observer);
  Conn c(port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(c.Send(Get("/hello?i=" + std::to_string(i))));
    auto r = c.Read();
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "{\"hello\":\"i=" + std::to_string(i) + "\"}");
    EXPECT_EQ(r->Get("Content-Type"), "application/json");
    EXPECT_EQ(r->Get("Server"), "lakegate");
    EXPECT_FALSE(r->Get("Date").empty());
    EXPECT_FALSE(r->Has("Connection"));
  }
  ASSERT_TRUE(WaitFor([&] { return observer.seen().size() == 200; }));
  EXPECT_EQ(observer.seen().front(), "/hello 200");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer(BaseRouter());
  Conn c(port());
  std::string batch;
  for (int i = 0; i < 20; ++i)
    batch += i % 2 ? Get("/hello?p=" + std::to_string(i)) : Post("/echo", std::to_string(i));
  ASSERT_TRUE(c.Send(batch));
  for (int i = 0; i < 20; ++i) {
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, i % 2 ? "{\"hello\":\"p=" + std::to_string(i) + "\"}" : std::to_string(i));
  }
}

TEST_F(ServerTest, RequestFieldsAreParsed) {
  Router router;
  std::mutex mu;
  Request seen;
  router.Add(Method::kPost, "/inspect", [&](std::shared_ptr<Exchange> ex) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen = ex->request();
    }
    ex->Respond(Text("{}"));
  });
  StartServer(std::move(router));
  Conn c(port());
  c.Send(
      "POST /inspect?a=1&b=%20 HTTP/1.1\r\nHost: t\r\nX-Multi: one\r\nx-multi: two\r\n"
      "Content-Length: 3\r\n\r\nabc");
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.method, Method::kPost);
  EXPECT_EQ(seen.method_text, "POST");
  EXPECT_EQ(seen.target, "/inspect?a=1&b=%20");
  EXPECT_EQ(seen.path, "/inspect");
  EXPECT_EQ(seen.query, "a=1&b=%20");
  EXPECT_EQ(seen.body, "abc");
  EXPECT_EQ(seen.version, 11);
  EXPECT_EQ(seen.GetHeader("X-MULTI"), "one");
  EXPECT_EQ(seen.CountHeader("x-multi"), 2u);
  EXPECT_EQ(seen.GetHeader("absent"), "");
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
  EXPECT_FALSE(seen.secure);
}

TEST_F(ServerTest, UnknownPathIs404) {
  RecordingObserver observer;
  StartServer(BaseRouter(), {}, &observer);
  Conn c(port());
  c.Send(Get("/x"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "{\"error\":\"not_found\",\"error_description\":\"no route for /x\"}");
  // The connection stays usable.
  c.Send(Get("/hello"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(WaitFor([&] { return observer.seen().size() == 2; }));
  EXPECT_EQ(observer.seen()[0], "unmatched 404");
}

TEST_F(ServerTest, WrongMethodIs405WithAllow) {
  StartServer(BaseRouter());
  Conn c(port());
  c.Send("DELETE /echo HTTP/1.1\r\nHost: t\r\n\r\n");
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->Get("Allow"), "POST, PUT");
  EXPECT_NE(r->body.find("\"error\":\"method_not_allowed\""), std::string::npos);

  c.Send("BREW /hello HTTP/1.1\r\nHost: t\r\n\r\n");
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->Get("Allow"), "GET, HEAD");

  c.Send("OPTIONS /hello HTTP/1.1\r\nHost: t\r\n\r\n");
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->Get("Allow"), "GET, HEAD");
  EXPECT_FALSE(r->Has("Content-Length"));
}

TEST_F(ServerTest, HeadOnGetRouteSendsHeadersOnly) {
  StartServer(BaseRouter());
  Conn c(port());
  c.Send("HEAD /hello?q HTTP/1.1\r\nHost: t\r\n\r\n");
  auto r = c.Read(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Get("Content-Length"), "13");  // {"hello":"q"}
  // No body bytes followed: the next response starts right away.
  c.Send(Get("/hello?n"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"hello\":\"n\"}");
}

TEST_F(ServerTest, BodyOverLimitIs413FromContentLengthBeforeTheBody) {
  StartServer(BaseRouter());
  Conn c(port());
  // Only the header is sent: the answer must come without waiting for the body.
  c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 17\r\n\r\n");
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(
      r->body,
      "{\"error\":\"payload_too_large\",\"error_description\":\"request body exceeds 16 bytes\"}");
  EXPECT_EQ(r->Get("Connection"), "close");
  EXPECT_TRUE(c.WaitClosed(5s));
}

TEST_F(ServerTest, BodyAtLimitIsAccepted) {
  StartServer(BaseRouter());
  Conn c(port());
  c.Send(Post("/echo", std::string(16, 'x')));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::string(16, 'x'));
}

TEST_F(ServerTest, ChunkedBodyIsReassembledAndLimited) {
  StartServer(BaseRouter());
  {
    Conn c(port());
    c.Send(
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello world");
  }
  {
    // Coding names are case-insensitive; whitespace around them is not part of them.
    Conn c(port());
    c.Send(
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:  Chunked \r\n\r\n"
        "2\r\nok\r\n0\r\n\r\n");
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok");
  }
  {
    Conn c(port());
    c.Send(
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "a\r\n0123456789\r\n7\r\n");  // 10 + 7 > 16, refused at the chunk header
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_NE(r->body.find("payload_too_large"), std::string::npos);
    EXPECT_TRUE(c.WaitClosed(5s));
  }
}

TEST_F(ServerTest, HeaderTooLargeIs431) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  StartServer(BaseRouter(), options);
  {
    Conn c(port());
    c.Send(Get("/hello", "X-Big: " + std::string(2000, 'a') + "\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
    EXPECT_NE(r->body.find("request_header_fields_too_large"), std::string::npos);
    EXPECT_TRUE(c.WaitClosed(5s));
  }
  {
    Conn c(port());  // a request target longer than the limit
    c.Send(Get("/hello?" + std::string(2000, 'q')));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
  }
  {
    Conn c(port());  // too many fields, each small
    std::string many;
    for (int i = 0; i < 101; ++i) many += "A:b\r\n";
    c.Send(Get("/hello", many));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
  }
}

struct BadRequestCase {
  const char* name;
  std::string request;
};

TEST_F(ServerTest, MalformedRequestsAre400AndClose) {
  StartServer(BaseRouter());
  const std::vector<BadRequestCase> cases = {
      {"garbage", "\x01\x02 garbage\r\n\r\n"},
      {"bad version", "GET /hello HTTP/9.9\r\nHost: t\r\n\r\n"},
      {"control char in header value", "GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\x01z\r\n\r\n"},
      {"conflicting content-length",
       "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
      {"content-length and chunked",
       "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"},
      {"unknown transfer coding",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n"},
      {"identity before chunked",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity, chunked\r\n\r\n"
       "1\r\na\r\n0\r\n\r\n"},
      {"gzip before chunked",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
       "1\r\na\r\n0\r\n\r\n"},
      {"chunked twice",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"
       "1\r\na\r\n0\r\n\r\n"},
      {"chunked in two fields",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
       "Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"},
      {"identity field then chunked field",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n"
       "Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"},
      {"chunked with a parameter",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked;q=1\r\n\r\n"
       "1\r\na\r\n0\r\n\r\n"},
      {"chunked then content-length",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"
       "\r\n1\r\na\r\n0\r\n\r\n"},
      {"chunked in HTTP/1.0",
       "POST /echo HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
       "1\r\na\r\n0\r\n\r\n"},
      {"two host headers", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
      {"bad chunk size",
       "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.name);
    Conn c(port());
    c.Send(tc.request);
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(r->body.find("\"error\":\"bad_request\""), std::string::npos) << r->body;
    EXPECT_EQ(r->Get("Connection"), "close");
    EXPECT_TRUE(c.WaitClosed(5s));
  }
}

TEST_F(ServerTest, HandlerExceptionIs500AndServerKeepsServing) {
  StartServer(BaseRouter());
  Conn c(port());
  c.Send(Get("/throw"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  // The error shape of the route's family; what the handler threw stays in
  // the log.
  EXPECT_EQ(r->body,
            "{\"error\":\"server_error\",\"error_description\":\"internal error; the server log "
            "has the details\"}");
  c.Send(Get("/hello"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  Conn c2(port());
  c2.Send(Get("/hello"));
  r = c2.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, HandlerThatDropsTheExchangeGets500) {
  StartServer(BaseRouter());
  Conn c(port());
  c.Send(Get("/drop"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, "{\"error\":\"server_error\"}");
}

TEST_F(ServerTest, AsyncResponseFromAnotherThread) {
  StartServer(BaseRouter());
  Conn c(port());
  for (int i = 0; i < 3; ++i) {
    c.Send(Get("/async"));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "{\"async\":true}");
  }
}

TEST_F(ServerTest, SecondAnswerIsIgnored) {
  Router router;
  std::atomic<bool> second_begin{true};
  router.Add(Method::kGet, "/twice", [&](std::shared_ptr<Exchange> ex) {
    ex->Respond(Text("first"));
    ex->Respond(Text("second"));
    second_begin = ex->BeginStream(200, "text/plain", {});
  });
  StartServer(std::move(router));
  Conn c(port());
  c.Send(Get("/twice") + Get("/twice"));
  for (int i = 0; i < 2; ++i) {
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "first");
  }
  EXPECT_FALSE(second_begin);
}

TEST_F(ServerTest, ResponseHeadersCannotSplitTheResponse) {
  Router router;
  router.Add(Method::kGet, "/split", [](std::shared_ptr<Exchange> ex) {
    Response r = Text("x");
    r.headers.push_back(Header{"X-Evil", "a\r\nSet-Cookie: pwned=1"});
    ex->Respond(std::move(r));
  });
  router.Add(Method::kGet, "/framing", [](std::shared_ptr<Exchange> ex) {
    Response r = Text("abc");
    r.headers.push_back(Header{"Content-Length", "999"});
    r.headers.push_back(Header{"X-Fine", "yes"});
    ex->Respond(std::move(r));
  });
  router.Add(Method::kGet, "/status",
             [](std::shared_ptr<Exchange> ex) { ex->Respond(Text("", 101)); });
  StartServer(std::move(router));
  Conn c(port());
  c.Send(Get("/split"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_FALSE(r->Has("Set-Cookie"));
  c.Send(Get("/framing"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Get("Content-Length"), "3");
  EXPECT_EQ(r->Get("X-Fine"), "yes");
  EXPECT_EQ(r->body, "abc");
  c.Send(Get("/status"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAlive) {
  StartServer(BaseRouter());
  {
    Conn c(port());
    c.Send("GET /hello HTTP/1.0\r\n\r\n");
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Get("Connection"), "close");
    EXPECT_TRUE(c.WaitClosed(5s));
  }
  {
    Conn c(port());
    for (int i = 0; i < 3; ++i) {
      c.Send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      auto r = c.Read();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->Get("Connection"), "keep-alive");
    }
  }
  {
    Conn c(port());  // HTTP/1.1 asking to close
    c.Send(Get("/hello", "Connection: close\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->Get("Connection"), "close");
    EXPECT_TRUE(c.WaitClosed(5s));
  }
}

TEST_F(ServerTest, ExpectContinueGets100BeforeTheBody) {
  StartServer(BaseRouter());
  Conn c(port());
  c.Send("PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  c.Send("data");
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "data");
}

TEST_F(ServerTest, MaxConnectionsRefusesExtraConnections) {
  ServerOptions options;
  options.max_connections = 1;
  options.threads = 1;
  StartServer(BaseRouter(), options);
  Conn a(port());
  a.Send(Get("/hello"));
  ASSERT_TRUE(a.Read());
  Conn b(port());
  EXPECT_TRUE(b.WaitClosed(5s));
  a.Send(Get("/hello"));
  auto r = a.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// ---------------------------------------------------------------------------
// Streaming

struct StreamProbe {
  std::atomic<size_t> accepted{0};  // bytes whose Write() returned
  std::atomic<bool> in_write{false};
  std::atomic<bool> write_failed{false};
  std::atomic<bool> done{false};
};

TEST_F(ServerTest, LargeStreamToASlowReaderKeepsMemoryBounded) {
  constexpr size_t kTotal = 20u << 20;
  constexpr size_t kChunk = 64u << 10;
  StreamProbe probe;
  Router router;
  router.Add(Method::kGet, "/big", [&](std::shared_ptr<Exchange> ex) {
    workers_.Run([ex, &probe] {
      ex->BeginStream(200, "application/x-ndjson", {Header{"X-Stream", "1"}});
      std::string chunk(kChunk, 'x');
      for (size_t sent = 0; sent < kTotal; sent += kChunk) {
        for (size_t i = 0; i < 8; ++i) chunk[i] = static_cast<char>('a' + (sent / kChunk) % 26);
        probe.in_write = true;
        bool ok = ex->Write(chunk);
        probe.in_write = false;
        if (!ok) {
          probe.write_failed = true;
          break;
        }
        probe.accepted += kChunk;
      }
      ex->End();
      probe.done = true;
    });
  });
  StartServer(std::move(router));
  Conn c(port(), /*rcvbuf=*/64 * 1024);
  c.Send(Get("/big"));
  // Read nothing: the worker must end up blocked inside Write with far less than
  // the whole body accepted (1 MiB high-water + socket buffers).
  size_t last = 0;
  bool blocked = WaitFor(
      [&] {
        size_t now = probe.accepted.load();
        bool stalled = probe.in_write.load() && now == last && now > 0;
        last = now;
        if (!stalled) std::this_thread::sleep_for(100ms);
        return stalled;
      },
      10s);
  ASSERT_TRUE(blocked) << "accepted " << probe.accepted.load();
  EXPECT_LT(probe.accepted.load(), size_t{8} << 20);
  EXPECT_FALSE(probe.done.load());

  // Now drain it and check the whole body arrived intact.
  c.SetTimeout(10s);
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Get("Transfer-Encoding"), "chunked");
  EXPECT_EQ(r->Get("X-Stream"), "1");
  ASSERT_EQ(r->body.size(), kTotal);
  for (size_t i = 0; i < kTotal / kChunk; ++i) {
    ASSERT_EQ(r->body[i * kChunk], static_cast<char>('a' + i % 26)) << i;
  }
  ASSERT_TRUE(WaitFor([&] { return probe.done.load(); }));
  EXPECT_FALSE(probe.write_failed.load());
  // The connection is reusable after the stream.
  c.Send(Get("/big", "Connection: close\r\n"));
  c.SetTimeout(10s);
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.size(), kTotal);
}

TEST_F(ServerTest, ClientGoneMidStreamMakesWriteReturnFalse) {
  StreamProbe probe;
  std::atomic<bool> saw_gone{false};
  Router router;
  router.Add(Method::kGet, "/endless", [&](std::shared_ptr<Exchange> ex) {
    workers_.Run([ex, &probe, &saw_gone] {
      ex->BeginStream(200, "text/plain", {});
      std::string chunk(32 * 1024, 'z');
      for (int i = 0; i < 100000; ++i) {  // bounded: 3 GiB at most
        if (!ex->Write(chunk)) {
          probe.write_failed = true;
          break;
        }
        probe.accepted += chunk.size();
      }
      saw_gone = ex->ClientGone();
      ex->End();
      probe.done = true;
    });
  });
  StartServer(std::move(router));
  {
    Conn c(port(), 64 * 1024);
    c.Send(Get("/endless"));
    std::string some;
    ASSERT_TRUE(c.ReadRaw(100000, some));
    c.Abort();
  }
  ASSERT_TRUE(WaitFor([&] { return probe.done.load(); }, 10s));
  EXPECT_TRUE(probe.write_failed.load());
  EXPECT_TRUE(saw_gone.load());
}

TEST_F(ServerTest, StreamingInsideTheHandlerAndHead) {
  Router router;
  router.Add(Method::kGet, "/small", [](std::shared_ptr<Exchange> ex) {
    ex->BeginStream(200, "text/plain", {});
    bool wrote = ex->Write("abc");  // on the network thread: queued, never blocks
    ex->Write(wrote ? "def" : "HEAD");
    ex->End();
    ex->End();  // idempotent
  });
  router.Add(Method::kGet, "/abandon", [&](std::shared_ptr<Exchange> ex) {
    workers_.Run([ex]() mutable {
      ex->BeginStream(200, "text/plain", {});
      ex->Write("partial");
      ex.reset();  // dropped without End()
    });
  });
  StartServer(std::move(router));
  Conn c(port());
  c.Send(Get("/small"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "abcdef");
  c.Send("HEAD /small HTTP/1.1\r\nHost: t\r\n\r\n");
  r = c.Read(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  c.Send(Get("/small"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "abcdef");  // HEAD left no stray bytes behind

  Conn d(port());
  d.Send(Get("/abandon"));
  EXPECT_FALSE(d.Read());  // cut off: no terminating chunk, the connection closes
}

TEST_F(ServerTest, SlowProducerIsNotCutOffByTheIdleTimeout) {
  ServerOptions options;
  options.idle_timeout = 1s;
  Router router;
  router.Add(Method::kGet, "/slow-stream", [&](std::shared_ptr<Exchange> ex) {
    workers_.Run([ex] {
      ex->BeginStream(200, "text/plain", {});
      ex->Write("first,");
      std::this_thread::sleep_for(2500ms);  // longer than idle_timeout + a sweep period
      ex->Write("second");
      ex->End();
    });
  });
  StartServer(std::move(router), options);
  Conn c(port());
  c.Send(Get("/slow-stream"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "first,second");
}

TEST_F(ServerTest, Http10StreamIsCloseDelimited) {
  Router router;
  router.Add(Method::kGet, "/s", [](std::shared_ptr<Exchange> ex) {
    ex->BeginStream(200, "text/plain", {});
    ex->Write("one,");
    ex->Write("two");
    ex->End();
  });
  StartServer(std::move(router));
  Conn c(port());
  c.Send("GET /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->Has("Transfer-Encoding"));
  EXPECT_EQ(r->Get("Connection"), "close");
  EXPECT_EQ(r->body, "one,two");
}

// ---------------------------------------------------------------------------
// Timeouts and stopping

TEST_F(ServerTest, SlowlorisIsCutOffByTheHeaderTimeout) {
  ServerOptions options;
  options.header_timeout = 1s;
  StartServer(BaseRouter(), options);
  Conn c(port());
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: t\r\n"));
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  c.SetTimeout(200ms);
  while (std::chrono::steady_clock::now() - start < 6s) {
    if (!c.Send("X")) {  // one byte now and then: never a complete header
      closed = true;
      break;
    }
    char tmp[64];
    ssize_t n = ::recv(c.fd(), tmp, sizeof tmp, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      closed = true;
      break;
    }
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosed) {
  ServerOptions options;
  options.idle_timeout = 1s;
  StartServer(BaseRouter(), options);
  Conn c(port());
  c.Send(Get("/hello"));
  ASSERT_TRUE(c.Read());
  EXPECT_TRUE(c.WaitClosed(4s));
}

TEST_F(ServerTest, StopLetsInFlightRequestsFinishAndClosesIdleOnes) {
  std::atomic<bool> started{false};
  Router router = BaseRouter();
  router.Add(Method::kGet, "/slow", [&](std::shared_ptr<Exchange> ex) {
    started = true;
    workers_.Run([ex] {
      std::this_thread::sleep_for(300ms);
      ex->Respond(Text("{\"slow\":true}"));
    });
  });
  StartServer(std::move(router));
  Conn idle(port());
  idle.Send(Get("/hello"));
  ASSERT_TRUE(idle.Read());
  Conn busy(port());
  busy.Send(Get("/slow"));
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));

  auto stop_start = std::chrono::steady_clock::now();
  std::thread stopper([&] { server_->Stop(5s); });
  auto r = busy.Read();
  stopper.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"slow\":true}");
  EXPECT_EQ(r->Get("Connection"), "close");
  EXPECT_LT(std::chrono::steady_clock::now() - stop_start, 4s);
  EXPECT_TRUE(idle.WaitClosed(1s));
  // No longer accepting.
  Conn late(server_->port());
  EXPECT_FALSE(late.connected() && late.Send(Get("/hello")) && late.Read());
}

TEST_F(ServerTest, StopAfterGraceCutsOffAStuckHandler) {
  std::shared_ptr<Exchange> parked;
  std::mutex mu;
  Router router;
  router.Add(Method::kGet, "/stuck", [&](std::shared_ptr<Exchange> ex) {
    std::lock_guard<std::mutex> lock(mu);
    parked = std::move(ex);  // never answered while the server runs
  });
  StartServer(std::move(router));
  Conn c(port());
  c.Send(Get("/stuck"));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return parked != nullptr;
  }));
  auto start = std::chrono::steady_clock::now();
  server_->Stop(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(c.WaitClosed(2s));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(parked->ClientGone());
  parked->Respond(Text("late"));  // harmless after stop
  parked.reset();
}

// ---------------------------------------------------------------------------
// Start-up errors

TEST(ServerStartTest, BusyPortIsUnavailableAndNamesTheAddress) {
  Router router;
  Server first(ServerOptions{}, Router{}, nullptr);
  ASSERT_TRUE(first.Start().ok());
  ServerOptions options;
  options.port = first.port();
  Server second(options, std::move(router), nullptr);
  Status status = second.Start();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("choose another"), std::string::npos);
}

TEST(ServerStartTest, BadAddressIsInvalidArgument) {
  ServerOptions options;
  options.address = "not-an-ip";
  Server server(options, Router{}, nullptr);
  Status status = server.Start();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("not-an-ip"), std::string::npos);
}

TEST(ServerStartTest, BadThreadCountIsInvalidArgument) {
  ServerOptions options;
  options.threads = 0;
  Server server(options, Router{}, nullptr);
  EXPECT_EQ(server.Start().code(), StatusCode::kInvalidArgument);
}

TEST(ServerStartTest, MissingTlsFilesAreInvalidArgument) {
  {
    ServerOptions options;
    options.tls_cert_file = "/nonexistent/cert.pem";
    Server server(options, Router{}, nullptr);
    Status status = server.Start();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("both"), std::string::npos);
  }
  {
    ServerOptions options;
    options.tls_cert_file = "/nonexistent/cert.pem";
    options.tls_key_file = "/nonexistent/key.pem";
    Server server(options, Router{}, nullptr);
    Status status = server.Start();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("/nonexistent/cert.pem"), std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// TLS

// One HTTPS request with OpenSSL; returns the raw response text ("" on failure).
std::string HttpsRoundTrip(uint16_t port, const std::string& request) {
  Conn c(port);
  if (!c.connected()) return "";
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, c.fd());
  std::string out;
  if (SSL_connect(ssl) == 1 &&
      SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0) {
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

TEST(ServerTlsTest, ServesHttpsWithAGeneratedCertificate) {
  TempDir dir;
  std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=localhost -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);

  Router router;
  router.Add(Method::kGet, "/secure", [](std::shared_ptr<Exchange> ex) {
    ex->Respond(Text(ex->request().secure ? "{\"secure\":true}" : "{\"secure\":false}"));
  });
  ServerOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  Server server(options, std::move(router), nullptr);
  Status status = server.Start();
  ASSERT_TRUE(status.ok()) << status.ToString();

  std::string response =
      HttpsRoundTrip(server.port(), "GET /secure HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("\r\n\r\n{\"secure\":true}"), std::string::npos) << response;

  // Plain HTTP to the TLS port does not reach a handler.
  Conn plain(server.port());
  plain.Send("GET /secure HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_FALSE(plain.Read());
  server.Stop(1s);
}

TEST(ServerTlsTest, MismatchedKeyIsRejectedAtStart) {
  TempDir dir;
  std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem",
              other = dir.path() + "/other.pem";
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=localhost -keyout " +
      key + " -out " + cert +
      " >/dev/null 2>&1 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
      other + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ServerOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = other;
  Server server(options, Router{}, nullptr);
  Status status = server.Start();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(other), std::string::npos) << status.message();
}

}  // namespace
}  // namespace lakegate::http
