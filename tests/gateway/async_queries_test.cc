// AsyncQueries tests: executions driven with a FakeEngine on a real pool, a
// FakeClock and a temporary spool directory.
#include "gateway/async_queries.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/base64url.h"
#include "common/files.h"
#include "common/thread_pool.h"
#include "fakes.h"
#include "gateway/gateway_failure.h"
#include "testing/temp_dir.h"

namespace lakegate::gateway {
namespace {

using testing::FakeEngine;
using testing::Value;

const Requester kEtl{"own\ncid-etl", false};
const Requester kRep{"own\ncid-rep", false};
const Requester kAdminCaller{"own\ncid-admin", true};

class AsyncQueriesTest : public ::testing::Test {
 protected:
  AsyncQueriesTest() {
    auto snapshot = std::make_shared<policy::PolicySnapshot>();
    snapshot->roles["lf-super-user-role"] = policy::Role{"lf-super-user-role", "", {}};
    policy_ = snapshot;
    engine_.rows = {{int64_t{1}, std::string("Ann")}, {int64_t{2}, std::string("Bob")}};
  }
  ~AsyncQueriesTest() override {
    engine_.Release();
    if (queries_) queries_->Stop();
    pool_.reset();
  }

  AsyncQueries& Queries(int max_concurrent = 4, int max_queued = 8) {
    if (!queries_) {
      slots_ = std::make_unique<ClientSlots>(*pool_, max_concurrent, max_queued);
      Reopen();
    }
    return *queries_;
  }
  void Reopen() {
    if (queries_) queries_->Stop();
    pool_.reset();
    queries_.reset();
    pool_ = std::make_unique<ThreadPool>(4, 64);
    slots_ = std::make_unique<ClientSlots>(*pool_, slots_->max_concurrent(), slots_->max_queued());
    AsyncOptions options = options_;
    options.spool_dir = dir_.File("spool");
    auto opened = AsyncQueries::Open(options, engine_, *slots_, *pool_, clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    queries_ = std::move(*opened);
  }

  AsyncSubmission Submission(const Requester& who, std::string sql = "SELECT id, name FROM t") {
    AsyncSubmission s;
    s.sql = std::move(sql);
    s.database = "analytics";
    s.policy = policy_;
    s.role = &policy_->roles.at("lf-super-user-role");
    s.role_name = "lf-super-user-role";
    s.owner = who.owner;
    s.client_id = who.owner.substr(who.owner.find('\n') + 1);
    return s;
  }

  ExecutionInfo WaitFinished(const Requester& who, const std::string& id) {
    for (int i = 0; i < 1000; ++i) {
      Result<ExecutionInfo> info = queries_->Get(who, id);
      EXPECT_TRUE(info.ok()) << info.status().ToString();
      if (!info.ok() || IsFinished(info->state)) return info.ok() ? *info : ExecutionInfo{};
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << id << " did not finish";
    return {};
  }

  std::string Run(const Requester& who, std::string sql = "SELECT id, name FROM t") {
    Result<ExecutionInfo> started = Queries().Start(Submission(who, std::move(sql)));
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (!started.ok()) return "";
    EXPECT_EQ(WaitFinished(who, started->id).state, ExecutionState::kSucceeded);
    return started->id;
  }

  ::lakegate::testing::TempDir dir_;
  FakeClock clock_;
  FakeEngine engine_;
  AsyncOptions options_;
  std::shared_ptr<const policy::PolicySnapshot> policy_;
  std::unique_ptr<ThreadPool> pool_ = std::make_unique<ThreadPool>(4, 64);
  std::unique_ptr<ClientSlots> slots_;
  std::unique_ptr<AsyncQueries> queries_;
};

TEST_F(AsyncQueriesTest, SucceedsWithTypedSpooledRows) {
  engine_.columns = {{"id", "INTEGER"}, {"n", ""}};
  engine_.rows = {{int64_t{1}, 2.5}, {Value{}, engine::Blob{std::string("\x01\x02", 2)}}};
  const std::string id = Run(kEtl);
  Result<ExecutionInfo> info = queries_->Get(kEtl, id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->rows, 2);
  EXPECT_GT(info->bytes, 0);
  EXPECT_EQ(info->statement_type, "SELECT");
  ASSERT_EQ(info->columns.size(), 2u);
  EXPECT_EQ(info->columns[0].declared_type, "INTEGER");
  EXPECT_EQ(info->columns[1].value_type, engine::ValueType::kReal);  // its first value
  Result<ResultPage> page = queries_->Results(kEtl, id, 10, "");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->rows.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(page->rows[0][0]), 1);
  EXPECT_EQ(std::get<double>(page->rows[0][1]), 2.5);
  EXPECT_EQ(page->rows[1][0].index(), 0u);  // NULL
  EXPECT_EQ(std::get<engine::Blob>(page->rows[1][1]).bytes, std::string("\x01\x02", 2));
  EXPECT_TRUE(page->next_token.empty());
  struct stat st {};
  ASSERT_EQ(::stat((dir_.File("spool") + "/" + id + ".rows").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AsyncQueriesTest, PagesWalkEveryRowOnce) {
  engine_.generator = [](int64_t i) {
    return std::vector<Value>{i, std::string("row ") + std::to_string(i)};
  };
  engine_.generated_rows = 2500;
  const std::string id = Run(kEtl);
  std::vector<int64_t> seen;
  std::string token;
  int pages = 0;
  do {
    Result<ResultPage> page = queries_->Results(kEtl, id, 1000, token);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->rows.size(), 1000u);
    for (const auto& row : page->rows) seen.push_back(std::get<int64_t>(row[0]));
    token = page->next_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 2500u);
  for (int64_t i = 0; i < 2500; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
  // A page never exceeds max_page_rows, whatever is asked.
  Result<ResultPage> big = queries_->Results(kEtl, id, 100000, "");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->rows.size(), options_.max_page_rows);
  // Zero rows: the token of where the page would start.
  Result<ResultPage> none = queries_->Results(kEtl, id, 0, "");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->rows.empty());
  Result<ResultPage> from_start = queries_->Results(kEtl, id, 1, none->next_token);
  ASSERT_TRUE(from_start.ok());
  EXPECT_EQ(std::get<int64_t>(from_start->rows[0][0]), 0);
}

TEST_F(AsyncQueriesTest, TokensCannotBeForgedOrMovedToAnotherExecution) {
  engine_.generator = [](int64_t i) { return std::vector<Value>{i, std::string("x")}; };
  engine_.generated_rows = 50;
  const std::string a = Run(kEtl);
  const std::string b = Run(kEtl);
  Result<ResultPage> page = queries_->Results(kEtl, a, 10, "");
  ASSERT_TRUE(page.ok());
  const std::string token = page->next_token;
  ASSERT_FALSE(token.empty());
  // The same token on another execution of the same client.
  EXPECT_TRUE(queries_->Results(kEtl, b, 10, token).status().Is(AsyncFailure::kInvalidToken));
  // A changed position with the old MAC.
  const size_t dot = token.find('.');
  std::string payload = *Base64UrlDecode(token.substr(0, dot));
  payload = payload.substr(0, payload.find('.')) + ".40.0";
  const std::string forged = Base64UrlEncode(payload) + token.substr(dot);
  EXPECT_TRUE(queries_->Results(kEtl, a, 10, forged).status().Is(AsyncFailure::kInvalidToken));
  EXPECT_TRUE(queries_->Results(kEtl, a, 10, "garbage").status().Is(AsyncFailure::kInvalidToken));
  // Another client does not even see the execution.
  EXPECT_TRUE(queries_->Results(kRep, a, 10, token).status().Is(AsyncFailure::kNotFound));
  // The admin scope reads on with the owner's token.
  Result<ResultPage> admin = queries_->Results(kAdminCaller, a, 10, token);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  EXPECT_EQ(std::get<int64_t>(admin->rows[0][0]), 10);
}

TEST_F(AsyncQueriesTest, OnlyTheOwnerOrAdminSeesAnExecution) {
  const std::string id = Run(kEtl);
  EXPECT_TRUE(queries_->Get(kRep, id).status().Is(AsyncFailure::kNotFound));
  EXPECT_TRUE(queries_->Cancel(kRep, id).status().Is(AsyncFailure::kNotFound));
  EXPECT_TRUE(queries_->Get(kAdminCaller, id).ok());
  EXPECT_EQ(queries_->List(kEtl).size(), 1u);
  EXPECT_TRUE(queries_->List(kRep).empty());
  EXPECT_EQ(queries_->List(kAdminCaller).size(), 1u);
  EXPECT_TRUE(queries_->Get(kEtl, "not-an-id").status().Is(AsyncFailure::kNotFound));
}

TEST_F(AsyncQueriesTest, EngineFailureIsFailedWithThePublicCode) {
  engine_.error_before = Status(StatusCode::kInvalidArgument, engine::EngineFailure::kInvalidQuery,
                                "no such column: nope");
  Result<ExecutionInfo> started = Queries().Start(Submission(kEtl));
  ASSERT_TRUE(started.ok());
  ExecutionInfo info = WaitFinished(kEtl, started->id);
  EXPECT_EQ(info.state, ExecutionState::kFailed);
  EXPECT_EQ(info.error_code, "invalid_query");
  EXPECT_EQ(info.state_reason, "no such column: nope");
  EXPECT_TRUE(queries_->Results(kEtl, info.id, 10, "").status().Is(AsyncFailure::kNoResults));
}

TEST_F(AsyncQueriesTest, ResultOverTheSpoolLimitFails) {
  options_.max_result_bytes = 1024;
  engine_.generator = [](int64_t i) { return std::vector<Value>{i, std::string(100, 'x')}; };
  engine_.generated_rows = 100;
  Result<ExecutionInfo> started = Queries().Start(Submission(kEtl));
  ASSERT_TRUE(started.ok());
  ExecutionInfo info = WaitFinished(kEtl, started->id);
  EXPECT_EQ(info.state, ExecutionState::kFailed);
  EXPECT_EQ(info.error_code, "result_too_large");
  EXPECT_FALSE(FileExists(dir_.File("spool") + "/" + info.id + ".rows"));
}

TEST_F(AsyncQueriesTest, QueuedBehindTheClientsSlotsAndCancelledThere) {
  engine_.hold = true;
  Queries(/*max_concurrent=*/1, /*max_queued=*/1);
  Result<ExecutionInfo> first = queries_->Start(Submission(kEtl));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(engine_.WaitForRunning(1), 1);
  EXPECT_EQ(queries_->Get(kEtl, first->id)->state, ExecutionState::kRunning);
  Result<ExecutionInfo> second = queries_->Start(Submission(kEtl));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->state, ExecutionState::kQueued);
  EXPECT_TRUE(queries_->Results(kEtl, second->id, 1, "").status().Is(AsyncFailure::kNotFinished));
  // The queue holds one: a third is refused, as /v1/query would be.
  Result<ExecutionInfo> third = queries_->Start(Submission(kEtl));
  EXPECT_TRUE(third.status().Is(GatewayFailure::kTooManyQueries));
  // Another client has slots of its own.
  Result<ExecutionInfo> other = queries_->Start(Submission(kRep));
  ASSERT_TRUE(other.ok());
  Result<ExecutionInfo> cancelled = queries_->Cancel(kEtl, second->id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, ExecutionState::kCancelled);
  engine_.Release();
  EXPECT_EQ(WaitFinished(kEtl, first->id).state, ExecutionState::kSucceeded);
  EXPECT_EQ(WaitFinished(kEtl, second->id).state, ExecutionState::kCancelled);
  EXPECT_EQ(WaitFinished(kRep, other->id).state, ExecutionState::kSucceeded);
  EXPECT_EQ(engine_.calls, 2);  // the cancelled one never ran
}

TEST_F(AsyncQueriesTest, RequestTokenMakesStartIdempotentPerOwner) {
  AsyncSubmission s = Submission(kEtl);
  s.request_token = "token-1";
  Result<ExecutionInfo> first = Queries().Start(s);
  ASSERT_TRUE(first.ok());
  AsyncSubmission again = Submission(kEtl);
  again.request_token = "token-1";
  EXPECT_EQ(queries_->Start(again)->id, first->id);
  AsyncSubmission theirs = Submission(kRep);
  theirs.request_token = "token-1";
  EXPECT_NE(queries_->Start(theirs)->id, first->id);
}

TEST_F(AsyncQueriesTest, FinishedSurviveARestartAndInterruptedOnesFail) {
  engine_.generator = [](int64_t i) { return std::vector<Value>{i, std::string("x")}; };
  engine_.generated_rows = 30;
  const std::string done = Run(kEtl);
  Result<ResultPage> page = queries_->Results(kEtl, done, 10, "");
  ASSERT_TRUE(page.ok());
  // An execution the process was running when it died: its metadata says RUNNING.
  const std::string running = "0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b";
  const std::string meta = dir_.File("spool") + "/" + running + ".json";
  Result<std::string> text = ReadFile(dir_.File("spool") + "/" + done + ".json");
  ASSERT_TRUE(text.ok());
  std::string copy = *text;
  copy.replace(copy.find(done), done.size(), running);
  copy.replace(copy.find("\"SUCCEEDED\""), 11, "\"RUNNING\"");
  ASSERT_TRUE(WriteFileAtomic(meta, copy).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_.File("spool") + "/damaged.json", "{").ok());
  Reopen();
  Result<ExecutionInfo> kept = queries_->Get(kEtl, done);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->state, ExecutionState::kSucceeded);
  Result<ResultPage> next = queries_->Results(kEtl, done, 10, page->next_token);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(std::get<int64_t>(next->rows[0][0]), 10);
  Result<ExecutionInfo> interrupted = queries_->Get(kEtl, running);
  ASSERT_TRUE(interrupted.ok());
  EXPECT_EQ(interrupted->state, ExecutionState::kFailed);
  EXPECT_EQ(interrupted->error_code, "server_stopped");
}

TEST_F(AsyncQueriesTest, ExpiresAfterTheRetention) {
  options_.retention = std::chrono::seconds(60);
  const std::string id = Run(kEtl);
  const std::string rows = dir_.File("spool") + "/" + id + ".rows";
  EXPECT_TRUE(FileExists(rows));
  clock_.Advance(std::chrono::seconds(59));
  queries_->Expire();
  EXPECT_TRUE(queries_->Get(kEtl, id).ok());
  clock_.Advance(std::chrono::seconds(2));
  queries_->Expire();
  EXPECT_TRUE(queries_->Get(kEtl, id).status().Is(AsyncFailure::kNotFound));
  EXPECT_FALSE(FileExists(rows));
  EXPECT_FALSE(FileExists(dir_.File("spool") + "/" + id + ".json"));
}

}  // namespace
}  // namespace lakegate::gateway
