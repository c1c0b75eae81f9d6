// http::Client against a real http::Server on 127.0.0.1:0 (plain and TLS):
// what goes on the wire, what comes back, and one test per failure reason.
#include "http/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/thread_annotations.h"
#include "http/server.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace lakegate::http {
namespace {

using namespace std::chrono_literals;
using ::lakegate::testing::HasReason;
using ::lakegate::testing::TempDir;

Response Text(std::string body, int status = 200) {
  Response r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

class ClientTest : public ::testing::Test {
 protected:
  void TearDown() override {
    {
      MutexLock lock(mutex_);
      for (auto& ex : parked_) ex->Respond(Text("late"));
      parked_.clear();
    }
    if (server_) server_->Stop(1s);
  }

  void Start(Router router, ServerOptions options = {}) {
    server_ = std::make_unique<Server>(std::move(options), std::move(router), nullptr);
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  std::string Url(std::string_view path, std::string_view scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(server_->port()) +
           std::string(path);
  }

  // Keeps an exchange unanswered until the test ends.
  void Park(std::shared_ptr<Exchange> ex) {
    MutexLock lock(mutex_);
    parked_.push_back(std::move(ex));
  }

  std::unique_ptr<Server> server_;
  Mutex mutex_;
  std::vector<std::shared_ptr<Exchange>> parked_ GUARDED_BY(mutex_);
};

TEST_F(ClientTest, GetReturnsStatusHeadersAndBody) {
  Router router;
  router.Add(Method::kGet, "/doc", [](std::shared_ptr<Exchange> ex) {
    Response r = Text("{\"keys\":[]}");
    r.content_type = "application/json";
    r.headers.push_back({"Cache-Control", "max-age=60"});
    ex->Respond(std::move(r));
  });
  Start(std::move(router));
  ClientRequest request;
  request.url = Url("/doc");
  Result<ClientResponse> response = Client().Send(std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "{\"keys\":[]}");
  EXPECT_EQ(response->GetHeader("content-type"), "application/json");
  EXPECT_EQ(response->GetHeader("CACHE-CONTROL"), "max-age=60");
  EXPECT_EQ(response->GetHeader("x-absent"), "");
}

TEST_F(ClientTest, PostSendsBodyHeadersAndUserAgent) {
  Router router;
  router.Add(Method::kPost, "/echo", [](std::shared_ptr<Exchange> ex) {
    const Request& req = ex->request();
    ex->Respond(Text(std::string(req.GetHeader("authorization")) + "|" +
                     std::string(req.GetHeader("content-type")) + "|" +
                     std::string(req.GetHeader("user-agent")) + "|" + req.body));
  });
  Start(std::move(router));
  ClientOptions options;
  options.user_agent = "lakegate-test/1";
  ClientRequest request;
  request.method = Method::kPost;
  request.url = Url("/echo");
  request.headers = {{"Authorization", "Basic YTpi"},
                     {"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = "grant_type=client_credentials";
  Result<ClientResponse> response = Client(options).Send(std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body,
            "Basic YTpi|application/x-www-form-urlencoded|lakegate-test/1|"
            "grant_type=client_credentials");
}

TEST_F(ClientTest, OtherMethodsAreSentAsNamed) {
  Router router;
  for (Method m : {Method::kPut, Method::kPatch, Method::kDelete}) {
    router.Add(m, "/m", [](std::shared_ptr<Exchange> ex) {
      ex->Respond(Text(ex->request().method_text + ":" + ex->request().body));
    });
  }
  router.Add(Method::kGet, "/m", [](std::shared_ptr<Exchange> ex) { ex->Respond(Text("body")); });
  Start(std::move(router));
  for (auto [method, expected] : {std::pair{Method::kPut, "PUT:x"},
                                  {Method::kPatch, "PATCH:x"},
                                  {Method::kDelete, "DELETE:"},
                                  {Method::kHead, ""}}) {
    ClientRequest request;
    request.method = method;
    request.url = Url("/m");
    request.body = method == Method::kDelete ? "" : "x";
    Result<ClientResponse> response = Client().Send(std::move(request));
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, expected) << MethodName(method);
  }
}

TEST_F(ClientTest, ErrorStatusesAreResponsesAndRedirectsAreNotFollowed) {
  std::atomic<int> target_hits{0};
  Router router;
  router.Add(Method::kGet, "/moved", [](std::shared_ptr<Exchange> ex) {
    Response r = Text("", 302);
    r.headers.push_back({"Location", "/target"});
    ex->Respond(std::move(r));
  });
  router.Add(Method::kGet, "/target", [&](std::shared_ptr<Exchange> ex) {
    ++target_hits;
    ex->Respond(Text("followed"));
  });
  router.Add(Method::kGet, "/broken",
             [](std::shared_ptr<Exchange> ex) { ex->Respond(Text("down", 503)); });
  Start(std::move(router));
  Client client;
  ClientRequest moved;
  moved.url = Url("/moved");
  Result<ClientResponse> response = client.Send(std::move(moved));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(response->GetHeader("location"), "/target");
  EXPECT_EQ(target_hits, 0);

  ClientRequest broken;
  broken.url = Url("/broken");
  response = client.Send(std::move(broken));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "down");
}

TEST_F(ClientTest, BodyOverTheCapIsTooLarge) {
  Router router;
  router.Add(Method::kGet, "/sized", [](std::shared_ptr<Exchange> ex) {
    ex->Respond(Text(std::string(3000, 'x')));  // Content-Length: refused before the body
  });
  router.Add(Method::kGet, "/streamed", [](std::shared_ptr<Exchange> ex) {
    ex->BeginStream(200, "text/plain", {});  // chunked: refused as the bytes arrive
    for (int i = 0; i < 3; ++i) ex->Write(std::string(1000, 'y'));
    ex->End();
  });
  Start(std::move(router));
  for (const char* path : {"/sized", "/streamed"}) {
    ClientRequest request;
    request.url = Url(path);
    request.max_response_bytes = 2048;
    Result<ClientResponse> response = Client().Send(std::move(request));
    ASSERT_FALSE(response.ok()) << path;
    EXPECT_TRUE(HasReason(response.status(), ClientFailure::kTooLarge)) << path;
    EXPECT_EQ(response.status().code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(response.status().message(), "response larger than 2 KiB");
  }
  // Exactly at the cap is fine.
  ClientRequest request;
  request.url = Url("/sized");
  request.max_response_bytes = 3000;
  Result<ClientResponse> response = Client().Send(std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body.size(), 3000u);
}

TEST_F(ClientTest, HeadersOverTheCapAreTooLarge) {
  Router router;
  router.Add(Method::kGet, "/headers", [](std::shared_ptr<Exchange> ex) {
    Response r = Text("");
    for (int i = 0; i < 70; ++i)
      r.headers.push_back({"X-Pad-" + std::to_string(i), std::string(1000, 'h')});
    ex->Respond(std::move(r));
  });
  Start(std::move(router));
  ClientRequest request;
  request.url = Url("/headers");
  Result<ClientResponse> response = Client().Send(std::move(request));
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(HasReason(response.status(), ClientFailure::kTooLarge));
}

TEST_F(ClientTest, SlowServerTimesOut) {
  Router router;
  router.Add(Method::kGet, "/slow", [this](std::shared_ptr<Exchange> ex) { Park(std::move(ex)); });
  Start(std::move(router));
  ClientRequest request;
  request.url = Url("/slow");
  request.timeout = 200ms;
  const auto started = std::chrono::steady_clock::now();
  Result<ClientResponse> response = Client().Send(std::move(request));
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(HasReason(response.status(), ClientFailure::kTimeout));
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(ClientTest, ClosedPortIsConnectFailure) {
  Start(Router{});
  const std::string url = Url("/");
  server_->Stop(0ms);  // nothing listens on the port any more
  ClientRequest request;
  request.url = url;
  Result<ClientResponse> response = Client().Send(std::move(request));
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(HasReason(response.status(), ClientFailure::kConnect));
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
}

TEST(ClientRequestTest, BadUrlsAreRefusedBeforeAnyConnection) {
  for (const char* url : {"not a url", "/relative/path", "ftp://127.0.0.1/file", ""}) {
    ClientRequest request;
    request.url = url;
    Result<ClientResponse> response = Client().Send(std::move(request));
    ASSERT_FALSE(response.ok()) << url;
    EXPECT_TRUE(HasReason(response.status(), ClientFailure::kBadUrl)) << url;
    EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument) << url;
  }
}

TEST(ClientRequestTest, HeadersThatCouldSplitTheRequestAreRefused) {
  for (Header bad :
       {Header{"X-Evil", "a\r\nInjected: yes"}, Header{"X-Evil", "a\nb"}, Header{"Bad Name", "v"},
        Header{"", "v"}, Header{"X:Y", "v"}, Header{"X-Nul", std::string("a\0b", 3)}}) {
    ClientRequest request;
    request.url = "http://127.0.0.1:1/";
    request.headers.push_back(bad);
    Result<ClientResponse> response = Client().Send(std::move(request));
    ASSERT_FALSE(response.ok()) << bad.name;
    EXPECT_TRUE(HasReason(response.status(), ClientFailure::kInvalidRequest)) << bad.name;
  }
  ClientRequest other;
  other.method = Method::kOther;
  other.url = "http://127.0.0.1:1/";
  EXPECT_TRUE(HasReason(Client().Send(std::move(other)).status(), ClientFailure::kInvalidRequest));
}

TEST(ParseUrlTest, LowerCasesSchemeAndHostAndUnbracketsIpv6) {
  Result<UrlParts> parts = ParseUrl("HTTPS://Issuer.Example:8443/x?y=1");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->scheme, "https");
  EXPECT_EQ(parts->host, "issuer.example");
  parts = ParseUrl("http://[::1]:80/jwks");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->host, "::1");
  EXPECT_TRUE(HasReason(ParseUrl("no scheme").status(), ClientFailure::kBadUrl));
  EXPECT_TRUE(HasReason(ParseUrl("http://").status(), ClientFailure::kBadUrl));
}

// ---------------------------------------------------------------------------
// TLS: the peer is verified against the system store or the given CA file.

TEST_F(ClientTest, TlsPeerIsVerifiedAgainstTheCaFile) {
  TempDir dir;
  const std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Router router;
  router.Add(Method::kGet, "/secure", [](std::shared_ptr<Exchange> ex) {
    ex->Respond(Text(ex->request().secure ? "secure" : "plain"));
  });
  ServerOptions server_options;
  server_options.tls_cert_file = cert;
  server_options.tls_key_file = key;
  Start(std::move(router), server_options);

  // A self-signed certificate is not in the system store.
  ClientRequest untrusted;
  untrusted.url = Url("/secure", "https");
  Result<ClientResponse> response = Client().Send(std::move(untrusted));
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(HasReason(response.status(), ClientFailure::kTls));
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);

  ClientOptions options;
  options.ca_file = cert;
  ClientRequest trusted;
  trusted.url = Url("/secure", "https");
  response = Client(options).Send(std::move(trusted));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "secure");

  // Plain HTTP to the TLS port gets no HTTP response.
  ClientRequest plain;
  plain.url = Url("/secure");
  plain.timeout = 2s;
  response = Client(options).Send(std::move(plain));
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(HasReason(response.status(), ClientFailure::kTransfer))
      << response.status().ToString();
}

// Mutual TLS at the transport: a server that asks for client certificates
// accepts any (self-signed too) or none, and hands what was presented to the
// handler; the client presents ClientOptions::cert_file.
TEST_F(ClientTest, ClientCertificatesReachTheHandlerWhenPresented) {
  TempDir dir;
  const std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  const std::string client_cert = dir.path() + "/client.pem";
  const std::string client_key = dir.path() + "/client.key";
  const std::string make =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-days 1 >/dev/null 2>&1 ";
  ASSERT_EQ(std::system((make + "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout " +
                         key + " -out " + cert)
                            .c_str()),
            0);
  ASSERT_EQ(std::system(
                (make + "-subj /CN=client -keyout " + client_key + " -out " + client_cert).c_str()),
            0);
  Router router;
  router.Add(Method::kGet, "/who", [](std::shared_ptr<Exchange> ex) {
    const auto& certificates = ex->request().client_certificates;
    ex->Respond(Text(certificates ? std::to_string(certificates->size()) + " " +
                                        std::to_string((*certificates)[0].size())
                                  : "none"));
  });
  ServerOptions server_options;
  server_options.tls_cert_file = cert;
  server_options.tls_key_file = key;
  server_options.request_client_certificates = true;
  Start(std::move(router), server_options);

  ClientOptions anonymous;
  anonymous.ca_file = cert;
  ClientRequest request;
  request.url = Url("/who", "https");
  Result<ClientResponse> response = Client(anonymous).Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "none");

  ClientOptions with_certificate = anonymous;
  with_certificate.cert_file = client_cert;
  with_certificate.key_file = client_key;
  for (int i = 0; i < 2; ++i) {  // a new connection each time (TLS session resumption too)
    response = Client(with_certificate).Send(request);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->body.substr(0, 2), "1 ") << response->body;
    EXPECT_GT(std::stoi(response->body.substr(2)), 100) << response->body;
  }
}

}  // namespace
}  // namespace lakegate::http
