#include "common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace lakegate {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A one-shot gate a task can wait on.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Polls `pred` for up to 10 s (generous for a loaded machine).
template <class Pred>
bool Eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return pred();
}

TEST(ThreadPoolTest, AtLeastOneThread) {
  ThreadPool pool(0, 4);
  EXPECT_EQ(pool.threads(), 1u);
  std::promise<void> ran;
  ASSERT_TRUE(pool.Submit([&] { ran.set_value(); }));
  EXPECT_EQ(ran.get_future().wait_for(seconds(10)), std::future_status::ready);
}

TEST(ThreadPoolTest, RunsEveryTaskFromManyProducers) {
  std::atomic<int> count{0};
  constexpr int kProducers = 4;
  constexpr int kTasks = 5000;
  {
    ThreadPool pool(3, kProducers * kTasks);
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&] {
        for (int i = 0; i < kTasks; ++i) {
          ASSERT_TRUE(pool.Submit([&] { count.fetch_add(1, std::memory_order_relaxed); }));
        }
      });
    }
    for (auto& t : producers) t.join();
  }  // the destructor drains the queue
  EXPECT_EQ(count.load(), kProducers * kTasks);
}

TEST(ThreadPoolTest, SubmitRefusedWhenQueueFull) {
  Gate gate;
  std::promise<void> started;
  std::atomic<int> ran{0};
  {
    ThreadPool pool(1, 2);
    ASSERT_TRUE(pool.Submit([&] {
      started.set_value();
      gate.Wait();
    }));
    ASSERT_EQ(started.get_future().wait_for(seconds(10)), std::future_status::ready);
    // The only worker is busy: two tasks fit in the queue, the third does not.
    EXPECT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
    EXPECT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
    EXPECT_EQ(pool.queued(), 2u);
    bool destroyed = false;
    struct Flag {
      bool* flag;
      ~Flag() { *flag = true; }
    };
    auto flag = std::make_shared<Flag>(Flag{&destroyed});
    EXPECT_FALSE(pool.Submit([&ran, flag] { ran.fetch_add(100); }));
    flag.reset();
    EXPECT_TRUE(destroyed) << "a refused task is destroyed by Submit's caller";
    gate.Open();
  }
  EXPECT_EQ(ran.load(), 2);
}

TEST(ThreadPoolTest, DestructorRunsQueuedTasks) {
  Gate gate;
  std::atomic<int> ran{0};
  std::thread opener;
  {
    ThreadPool pool(1, 16);
    ASSERT_TRUE(pool.Submit([&] { gate.Wait(); }));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
    // Opened while the destructor is (most likely) already waiting.
    opener = std::thread([&] {
      std::this_thread::sleep_for(milliseconds(50));
      gate.Open();
    });
  }
  opener.join();
  EXPECT_EQ(ran.load(), 10);
}

// A task that throws costs its own work only: the worker runs the next task.
TEST(ThreadPoolTest, ATaskThatThrowsKillsNothing) {
  ThreadPool pool(1, 16);
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Submit([] { throw std::runtime_error("a bug"); }));
  ASSERT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
  for (int i = 0; i < 500 && ran.load() == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(ran.load(), 1);
}

TEST(ThreadPoolTest, WakesAParkedWorker) {
  ThreadPool pool(2, 4);
  ASSERT_TRUE(Eventually([&] { return pool.parked() == 2; }));
  for (int i = 0; i < 20; ++i) {
    std::promise<void> ran;
    ASSERT_TRUE(pool.Submit([&] { ran.set_value(); }));
    ASSERT_EQ(ran.get_future().wait_for(seconds(10)), std::future_status::ready) << i;
    ASSERT_TRUE(Eventually([&] { return pool.parked() == 2; })) << i;
  }
}

TEST(ThreadPoolTest, MostRecentlyParkedWorkerTakesTheNextTask) {
  ThreadPool pool(4, 4);
  std::set<std::thread::id> used;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Eventually([&] { return pool.parked() == 4; })) << i;
    std::promise<std::thread::id> ran;
    ASSERT_TRUE(pool.Submit([&] { ran.set_value(std::this_thread::get_id()); }));
    auto id = ran.get_future();
    ASSERT_EQ(id.wait_for(seconds(10)), std::future_status::ready);
    used.insert(id.get());
  }
  // One at a time, every task after the first lands on the worker that ran
  // the previous one (the top of the LIFO stack).
  EXPECT_EQ(used.size(), 1u);
}

TEST(ThreadPoolTest, BlockedTasksDoNotDelayOthersWhileWorkersAreFree) {
  // Like a client's slow queries: three tasks block, a fourth must still run.
  Gate gate;
  std::atomic<int> blocked{0};
  ThreadPool pool(4, 16);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(pool.Submit([&] {
      blocked.fetch_add(1);
      gate.Wait();
    }));
  }
  ASSERT_TRUE(Eventually([&] { return blocked.load() == 3; }));
  std::promise<void> ran;
  ASSERT_TRUE(pool.Submit([&] { ran.set_value(); }));
  EXPECT_EQ(ran.get_future().wait_for(seconds(10)), std::future_status::ready);
  gate.Open();
}

TEST(ThreadPoolTest, BurstWhileBlockedWakesEnoughWorkers) {
  // Two tasks submitted back to back while one worker is blocked: both must
  // run concurrently on the two free workers (each waits for the other).
  Gate gate;
  std::promise<void> started;
  ThreadPool pool(3, 16);
  ASSERT_TRUE(pool.Submit([&] {
    started.set_value();
    gate.Wait();
  }));
  ASSERT_EQ(started.get_future().wait_for(seconds(10)), std::future_status::ready);
  std::atomic<int> arrived{0};
  std::atomic<int> done{0};
  auto rendezvous = [&] {
    arrived.fetch_add(1);
    if (Eventually([&] { return arrived.load() == 2; })) done.fetch_add(1);
  };
  ASSERT_TRUE(pool.Submit(rendezvous));
  ASSERT_TRUE(pool.Submit(rendezvous));
  EXPECT_TRUE(Eventually([&] { return done.load() == 2; }));
  gate.Open();
}

TEST(ThreadPoolTest, TasksMaySubmitTasks) {
  std::atomic<int> ran{0};
  std::function<void(int)> chain;  // outlives the pool
  {
    ThreadPool pool(2, 64);
    chain = [&](int depth) {
      ran.fetch_add(1);
      if (depth > 0) {
        ASSERT_TRUE(pool.Submit([&chain, depth] { chain(depth - 1); }));
      }
    };
    ASSERT_TRUE(pool.Submit([&] { chain(30); }));
    ASSERT_TRUE(Eventually([&] { return ran.load() == 31; }));
  }
  EXPECT_EQ(ran.load(), 31);
}

}  // namespace
}  // namespace lakegate
