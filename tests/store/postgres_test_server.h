// The throwaway PostgreSQL server of the tests labelled `postgres`: ctest's
// fixture (postgres.start / postgres.stop, scripts/postgres.sh) starts one
// server for all of them and says where through $LAKEGATE_TEST_POSTGRES_DIR
// (its URL is in DIR/url); $LAKEGATE_TEST_POSTGRES_URL names another server.
// TestDatabase gives each test a fresh database of its own on it.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

namespace lakegate::testing {

// The server's URL, or "" when no server was configured (the test skips).
inline std::string PostgresTestServerUrl() {
  if (const char* url = std::getenv("LAKEGATE_TEST_POSTGRES_URL"); url && *url) return url;
  const char* dir = std::getenv("LAKEGATE_TEST_POSTGRES_DIR");
  if (dir == nullptr || *dir == '\0') return "";
  std::ifstream in(std::string(dir) + "/url");
  std::string url;
  std::getline(in, url);
  // Configured but unreadable: fail rather than skip, the fixture broke.
  EXPECT_FALSE(url.empty()) << "no URL in " << dir << "/url: did the postgres.start fixture run?";
  return url;
}

// `url` with its database (the URI path) replaced by `database`.
inline std::string WithDatabase(const std::string& url, const std::string& database) {
  size_t authority = url.find("://");
  size_t path = url.find('/', authority == std::string::npos ? 0 : authority + 3);
  size_t query = url.find('?');
  std::string out = url.substr(0, path == std::string::npos ? query : path) + "/" + database;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

// Runs `sql` on a connection of its own; returns the first value of the first
// row ("" when none) and fails the test on an error.
inline std::string RawQuery(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  std::string value;
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect: " << PQerrorMessage(conn);
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      ADD_FAILURE() << sql << ": " << PQresultErrorMessage(result);
    } else if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) {
      value = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
  }
  PQfinish(conn);
  return value;
}

// A fresh, empty database on the test server, dropped (with every connection
// to it) when the object goes.
class TestDatabase {
 public:
  explicit TestDatabase(std::string server_url) : server_url_(std::move(server_url)) {
    static std::atomic<int> counter{0};
    name_ = "lgtest_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    RawQuery(server_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    RawQuery(server_url_, "CREATE DATABASE " + name_);
    url_ = WithDatabase(server_url_, name_);
  }
  ~TestDatabase() { RawQuery(server_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"); }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
};

}  // namespace lakegate::testing
