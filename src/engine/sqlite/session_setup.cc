// Sessions, connection setup: opening the governed and direct connections,
// and the callbacks a session installs on them (deadline and cancellation,
// busy waits, the printf guard, the hash mask).
#include <algorithm>
#include <thread>
#include <utility>

#include "common/strings.h"
#include "crypto/hash.h"
#include "engine/sqlite/catalog.h"
#include "engine/sqlite/session.h"

namespace lakegate::engine::sqlite_internal {
namespace {

using Clock = std::chrono::steady_clock;

// SQLite calls the progress handler every this many virtual machine steps.
constexpr int kProgressOps = 1000;
// The in-memory connections that attach lake files: no SQLITE_OPEN_CREATE,
// which ATTACH inherits, so attaching a missing file fails instead of
// creating it.
constexpr int kMemoryFlags = SQLITE_OPEN_READWRITE;

Status SetupFailure(std::string message) {
  return Status(StatusCode::kInternal, EngineFailure::kInternal, std::move(message));
}

Status UnknownDatabase(const std::string& database) {
  return Status(StatusCode::kInvalidArgument, EngineFailure::kUnknownDatabase,
                "unknown database: " + database);
}

}  // namespace

Session::~Session() {
  writer_.reset();
  statement_cache_.clear();  // finalize before the connections close
  helper_stmts_.clear();
  begin_.reset();
  commit_.reset();
  rollback_.reset();
  // The user connection first: disconnecting its vtabs finalizes their inner
  // statements on the privileged connection.
  user_.reset();
  module_.reset();
  priv_.reset();
  helper_.reset();
}

int Session::Progress(void* self) {
  auto* s = static_cast<Session*>(self);
  RequestState* st = s->state_;
  if (st == nullptr) return 0;
  if (st->cancelled != nullptr && st->cancelled->load(std::memory_order_relaxed)) {
    st->was_cancelled = true;
    return 1;
  }
  if (Clock::now() >= st->deadline) {
    st->timed_out = true;
    return 1;
  }
  return 0;
}

bool Session::OverTime(void* self) { return Progress(self) != 0; }

int Session::Busy(void* self, int count) {
  auto* s = static_cast<Session*>(self);
  constexpr auto kNap = std::chrono::milliseconds(2);
  if (s->state_ == nullptr) {
    if (count > 2500) return 0;
  } else if (Clock::now() + kNap >= s->state_->deadline) {
    return 0;
  }
  std::this_thread::sleep_for(kNap);
  return 1;
}

sqlite3_stmt* Session::HelperStatement(const char* function, int argc) {
  const std::string key = std::string(function) + "/" + std::to_string(argc);
  auto it = helper_stmts_.find(key);
  if (it != helper_stmts_.end()) return it->second.get();
  if (helper_ == nullptr) {
    Result<DbPtr> opened = OpenConnection(":memory:", kMemoryFlags);
    if (!opened.ok()) return nullptr;
    helper_ = std::move(opened).value();
  }
  std::string sql = std::string("SELECT ") + function + "(";
  for (int i = 1; i <= argc; ++i) sql += (i > 1 ? ", ?" : "?") + std::to_string(i);
  sql += ")";
  sqlite3_stmt* raw = nullptr;
  int rc =
      sqlite3_prepare_v3(helper_.get(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return nullptr;
  return (helper_stmts_[key] = std::move(stmt)).get();
}

void Session::RunOnHelper(sqlite3_context* ctx, const char* function, int argc,
                          sqlite3_value** argv) {
  const std::string failed = std::string(function) + "() failed";
  sqlite3_stmt* stmt = HelperStatement(function, argc);
  if (stmt == nullptr) {
    sqlite3_result_error(ctx, failed.c_str(), -1);
    return;
  }
  sqlite3_limit(helper_.get(), SQLITE_LIMIT_LENGTH,
                sqlite3_limit(user_.get(), SQLITE_LIMIT_LENGTH, -1));
  for (int i = 0; i < argc; ++i) sqlite3_bind_value(stmt, i + 1, argv[i]);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    sqlite3_result_value(ctx, sqlite3_column_value(stmt, 0));
  } else if (rc == SQLITE_TOOBIG) {
    sqlite3_result_error_toobig(ctx);
  } else {
    std::string message = std::string(function) + "(): " + sqlite3_errmsg(helper_.get());
    sqlite3_result_error(ctx, message.c_str(), -1);
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
}

// printf()/format() with every width and precision bounded by the length
// limit, then evaluated by the built-in on the helper connection.
void Session::GuardedPrintf(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto* s = static_cast<Session*>(sqlite3_user_data(ctx));
  const int limit = sqlite3_limit(s->user_.get(), SQLITE_LIMIT_LENGTH, -1);
  if (!PrintfWithinLimit(argc, argv, limit)) {
    sqlite3_result_error_toobig(ctx);
    return;
  }
  s->RunOnHelper(ctx, "printf", argc, argv);
}

// json_patch(target, patch): the built-in merges objects in time quadratic in
// their keys, beyond the reach of the progress handler (one call is one
// virtual-machine step), so each argument is bounded: at kMaxJsonPatchBytes a
// call takes a few tens of milliseconds.
void Session::GuardedJsonPatch(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  constexpr int kMaxJsonPatchBytes = 64 * 1024;
  auto* s = static_cast<Session*>(sqlite3_user_data(ctx));
  for (int i = 0; i < argc; ++i) {
    if (sqlite3_value_bytes(argv[i]) > kMaxJsonPatchBytes) {
      sqlite3_result_error(ctx, "json_patch() takes at most 65536 bytes per argument", -1);
      return;
    }
  }
  s->RunOnHelper(ctx, "json_patch", argc, argv);
}

// lakegate_mask_hash(v): hex HMAC-SHA256 of v's text under the engine's
// mask key; NULL stays NULL. Registered on the privileged connection only.
void Session::MaskHash(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto* s = static_cast<Session*>(sqlite3_user_data(ctx));
  if (argc != 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  const unsigned char* text = sqlite3_value_text(argv[0]);
  if (text == nullptr) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  std::string_view value(reinterpret_cast<const char*>(text),
                         static_cast<size_t>(sqlite3_value_bytes(argv[0])));
  std::string hex = HexEncode(crypto::HmacSha256(s->mask_hash_key_, value));
  sqlite3_result_text64(ctx, hex.data(), hex.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

Status Session::InstallCommon() {
  sqlite3* user = user_.get();
  sqlite3_set_authorizer(user, Authorize, &user_guard_);
  sqlite3_progress_handler(user, kProgressOps, &Session::Progress, this);
  if (RegisterBoundedFunctions(user, &meter_) != SQLITE_OK) {
    return SetupFailure("cannot register the bounded functions");
  }
  sqlite3_busy_handler(user, &Session::Busy, this);
  for (const char* name : {"printf", "format"}) {
    if (sqlite3_create_function_v2(
            user, name, -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, this,
            &Session::GuardedPrintf, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return SetupFailure("cannot register printf guard");
    }
  }
  if (sqlite3_create_function_v2(
          user, "json_patch", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, this,
          &Session::GuardedJsonPatch, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SetupFailure("cannot register the json_patch guard");
  }
  // Nothing may be attached after setup (the authorizer denies ATTACH too).
  sqlite3_limit(user, SQLITE_LIMIT_ATTACHED, 0);
  return Status::Ok();
}

Result<std::unique_ptr<Session>> Session::OpenGoverned(
    uint64_t generation, const std::string& lake_dir, const std::vector<std::string>& databases,
    const policy::PolicySnapshot& policy, const policy::Role& role, const std::string& database,
    const std::string& mask_hash_key) {
  auto s = std::make_unique<Session>(generation, /*governed=*/true);
  s->mask_hash_key_ = mask_hash_key;
  s->lake_dir_ = lake_dir;
  s->databases_ = databases;
  s->database_ = database;
  LG_ASSIGN_OR_RETURN(s->priv_, OpenConnection(":memory:", kMemoryFlags));
  sqlite3* priv = s->priv_.get();
  if (sqlite3_create_function_v2(priv, kMaskHashFunction, 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, s.get(),
                                 &Session::MaskHash, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SetupFailure("cannot register the hash mask");
  }
  s->priv_guard_.mode = Guard::Mode::kPrivileged;
  sqlite3_set_authorizer(priv, Authorize, &s->priv_guard_);
  sqlite3_progress_handler(priv, kProgressOps, &Session::Progress, s.get());
  sqlite3_busy_handler(priv, &Session::Busy, s.get());
  // Masks and filters (the policy's SQL) run here, on raw values.
  if (RegisterBoundedFunctions(priv, &s->meter_) != SQLITE_OK) {
    return SetupFailure("cannot register the bounded functions");
  }

  LG_ASSIGN_OR_RETURN(
      std::vector<DatabaseView> views,
      DescribeLake(priv, s->priv_guard_, lake_dir, AttachOrder(databases, database), policy, role,
                   /*unrestricted=*/false));
  if (!database.empty() && (views.empty() || views.front().name != database)) {
    return UnknownDatabase(database);
  }
  for (StmtPtr* stmt : {&s->begin_, &s->commit_, &s->rollback_}) {
    const char* sql = stmt == &s->begin_ ? "BEGIN" : stmt == &s->commit_ ? "COMMIT" : "ROLLBACK";
    sqlite3_stmt* raw = nullptr;
    s->priv_guard_.trusted = true;
    int rc = sqlite3_prepare_v3(priv, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    s->priv_guard_.trusted = false;
    stmt->reset(raw);
    if (rc != SQLITE_OK) {
      return SetupFailure("engine setup failed: cannot prepare " + std::string(sql));
    }
  }

  s->module_ =
      std::make_unique<GovernedModule>(priv, crypto::HmacSha256(mask_hash_key, "lakegate rowid"));
  for (auto& view : views) {
    for (auto& def : view.tables) s->module_->AddTable(std::move(def));
  }
  LG_ASSIGN_OR_RETURN(s->user_, OpenConnection(":memory:", kMemoryFlags));
  sqlite3* user = s->user_.get();
  s->user_guard_.mode = Guard::Mode::kGoverned;
  GovernedModule* module = s->module_.get();
  s->user_guard_.governed_read = [module](std::string_view db, std::string_view table,
                                          std::string_view column) {
    return module->CanRead(db, table, column);
  };
  if (module->Register(user) != SQLITE_OK) return SetupFailure("cannot register module");
  module->set_creating(true);
  s->user_guard_.trusted = true;
  Status status;
  for (const auto& view : views) {
    status =
        ExecTrusted(user, s->user_guard_, "ATTACH DATABASE ':memory:' AS " + QuoteIdent(view.name));
    if (!status.ok()) break;
  }
  for (const auto& [key, def] : module->tables()) {
    if (!status.ok()) break;
    status = ExecTrusted(user, s->user_guard_,
                         "CREATE VIRTUAL TABLE " + QuoteIdent(def.schema) + "." +
                             QuoteIdent(def.table) + " USING " + GovernedModule::kModuleName);
  }
  module->set_creating(false);
  s->user_guard_.trusted = false;
  LG_RETURN_IF_ERROR(status);
  LG_RETURN_IF_ERROR(s->InstallCommon());
  return s;
}

Result<std::unique_ptr<Session>> Session::OpenDirect(uint64_t generation,
                                                     const std::string& lake_dir,
                                                     const std::vector<std::string>& databases,
                                                     const std::string& database) {
  auto s = std::make_unique<Session>(generation, /*governed=*/false);
  // `main` is the request's database, so unqualified DDL lands there; it is
  // attached again under its own name so `analytics.members` resolves too.
  if (database.empty()) {
    LG_ASSIGN_OR_RETURN(s->user_, OpenConnection(":memory:", kMemoryFlags));
    s->user_guard_.memory_main = true;
  } else {
    if (std::find(databases.begin(), databases.end(), database) == databases.end()) {
      return UnknownDatabase(database);
    }
    LG_ASSIGN_OR_RETURN(s->user_,
                        OpenConnection(LakeFilePath(lake_dir, database), SQLITE_OPEN_READWRITE));
  }
  sqlite3* user = s->user_.get();
  LG_RETURN_IF_ERROR(CheckAttachLimit(user, databases.size(), "the lake has"));
  s->user_guard_.mode = Guard::Mode::kDirect;
  sqlite3_set_authorizer(user, Authorize, &s->user_guard_);
  for (const auto& d : AttachOrder(databases, database)) {
    LG_RETURN_IF_ERROR(AttachTrusted(user, s->user_guard_, LakeFilePath(lake_dir, d), d));
  }
  LG_RETURN_IF_ERROR(s->InstallCommon());
  return s;
}

}  // namespace lakegate::engine::sqlite_internal
