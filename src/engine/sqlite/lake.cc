// The admin helpers of sqlite_engine.h: database files and the demo table.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/files.h"
#include "engine/sqlite/sqlite_engine.h"

namespace lakegate::engine {
namespace {

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, Closer>;

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err != nullptr ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return InternalError("sqlite: " + message);
  }
  return Status::Ok();
}

Result<DbPtr> OpenFile(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return InternalError("cannot open " + path + ": " +
                         (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  return db;
}

}  // namespace

bool IsValidDatabaseName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(name[0])) return false;
  for (char c : name) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

Status CreateDatabaseIfMissing(const std::string& lake_dir, const std::string& name) {
  if (!IsValidDatabaseName(name)) {
    return InvalidArgumentError("invalid database name '" + name +
                                "': use [A-Za-z_][A-Za-z0-9_]{0,63}");
  }
  LG_RETURN_IF_ERROR(MakeDirectories(lake_dir, 0700));
  std::string path = lake_dir + "/" + name + ".db";
  // An empty file is a valid empty database; creating it ourselves gives it
  // mode 0600 whatever the umask (SQLite gives its -wal/-shm the same mode).
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::Ok();
    return InternalError("cannot create " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
  LG_ASSIGN_OR_RETURN(DbPtr db, OpenFile(path));
  return Exec(db.get(), "PRAGMA journal_mode=WAL");
}

Status CreateDemoMembers(const std::string& lake_dir, int64_t rows) {
  LG_RETURN_IF_ERROR(CreateDatabaseIfMissing(lake_dir, "analytics"));
  LG_ASSIGN_OR_RETURN(DbPtr db, OpenFile(lake_dir + "/analytics.db"));
  LG_RETURN_IF_ERROR(Exec(db.get(), "BEGIN IMMEDIATE"));
  sqlite3_stmt* exists = nullptr;
  sqlite3_prepare_v2(db.get(),
                     "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'members'", -1,
                     &exists, nullptr);
  bool present = exists != nullptr && sqlite3_step(exists) == SQLITE_ROW;
  sqlite3_finalize(exists);
  if (present) return Exec(db.get(), "COMMIT");

  Status status = Exec(db.get(),
                       "CREATE TABLE members(member_id INTEGER, name TEXT, email TEXT, "
                       "region TEXT, tier TEXT, joined_on TEXT, lifetime_value REAL)");
  sqlite3_stmt* insert = nullptr;
  if (status.ok() &&
      sqlite3_prepare_v2(db.get(), "INSERT INTO members VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1,
                         &insert, nullptr) != SQLITE_OK) {
    status = InternalError(std::string("sqlite: ") + sqlite3_errmsg(db.get()));
  }
  static constexpr std::array<const char*, 16> kFirst = {
      "Ada", "Bo", "Chen", "Dara", "Eli", "Farah", "Gus", "Hana",
      "Ines", "Jon", "Kemal", "Lena", "Mei", "Noor", "Omar", "Pia"};
  static constexpr std::array<const char*, 12> kLast = {
      "Alvarez", "Brown", "Costa", "Dubois", "Evans", "Fischer",
      "Garcia", "Haddad", "Ito", "Jensen", "Kowalski", "Larsen"};
  static constexpr std::array<const char*, 5> kRegions = {"us-east", "us-west", "eu-central",
                                                          "ap-south", "sa-east"};
  static constexpr std::array<const char*, 4> kTiers = {"bronze", "silver", "gold", "platinum"};
  uint64_t lcg = 20240601;  // fixed seed: the same rows on every machine
  auto next = [&lcg]() {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return lcg >> 33;
  };
  for (int64_t id = 1; status.ok() && id <= rows; ++id) {
    std::string name = std::string(kFirst[next() % kFirst.size()]) + " " +
                       kLast[next() % kLast.size()];
    char email[64];
    std::snprintf(email, sizeof(email), "member%05lld@example.com", static_cast<long long>(id));
    char joined[16];
    std::snprintf(joined, sizeof(joined), "%04d-%02d-%02d", 2015 + static_cast<int>(next() % 11),
                  1 + static_cast<int>(next() % 12), 1 + static_cast<int>(next() % 28));
    double value = static_cast<double>(next() % 500000) / 100.0;
    sqlite3_bind_int64(insert, 1, id);
    sqlite3_bind_text(insert, 2, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 3, email, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 4, kRegions[next() % kRegions.size()], -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 5, kTiers[next() % kTiers.size()], -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 6, joined, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(insert, 7, value);
    if (sqlite3_step(insert) != SQLITE_DONE) {
      status = InternalError(std::string("sqlite: ") + sqlite3_errmsg(db.get()));
    }
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  if (!status.ok()) {
    Exec(db.get(), "ROLLBACK").IgnoreError();
    return status;
  }
  return Exec(db.get(), "COMMIT");
}

}  // namespace lakegate::engine
