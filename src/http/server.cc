// Server: binds one SO_REUSEPORT listener per shard and runs each shard's
// io_context on its own thread (shard.h); connections are served by sessions
// (session.h), handlers answer through an Exchange (exchange_impl.h).
#include "http/server.h"

#include <atomic>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

#include "http/shard.h"
#include "http/tls_context.h"

namespace lakegate::http {

using internal::ErrorCode;
using internal::Shard;
using internal::Shared;
using internal::SteadyClock;
using internal::tcp;
namespace net = boost::asio;

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
    LG_ASSIGN_OR_RETURN(shared.ssl, internal::MakeTlsContext(options));
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
