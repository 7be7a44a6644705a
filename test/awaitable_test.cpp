// The awaitable form: co_await resumes on the loop thread with the result, or throws the error;
// co_await cursor.next() iterates a whole result chunk by chunk.
#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

/// The exception that escaped the last Task coroutine, if any (see test_support.hpp).
std::exception_ptr& g_unhandled = escaped_from_task();

class AwaitableTest : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    g_unhandled = nullptr;
  }
  void TearDown() override {
    EXPECT_FALSE(g_unhandled) << "a coroutine ended with an exception: " << describe(g_unhandled);
    g_unhandled = nullptr;
    LoopTest::TearDown();
  }

  /// Iterates a 1,000-row result with co_await cursor.next() at the given chunk size.
  void iterate_with_next(std::size_t chunk) {
    Options options;
    options.iter_chunk_size = chunk;
    auto db = open(":memory:", options);
    std::vector<std::int64_t> got;
    bool done = false;
    bool wrong_thread = false;
    const auto loop_thread = std::this_thread::get_id();
    auto body = [&]() -> Task {
      auto cur = co_await db.execute(
          "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000) SELECT x FROM c",
          use_awaitable);
      EXPECT_EQ(cur.iter_chunk_size(), chunk);
      while (auto row = co_await cur.next()) {
        if (std::this_thread::get_id() != loop_thread) wrong_thread = true;
        got.push_back(row->get<std::int64_t>(0));
      }
      // Exhausted: stays exhausted.
      EXPECT_FALSE((co_await cur.next()).has_value());
      done = true;
    };
    body();
    ASSERT_TRUE(run_until([&] { return done || g_unhandled; }));
    ASSERT_TRUE(done);
    EXPECT_FALSE(wrong_thread);
    ASSERT_EQ(got.size(), 1000u);
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (got[i] != static_cast<std::int64_t>(i + 1)) {
        ADD_FAILURE() << "row " << i << " is " << got[i];
        break;
      }
    }
    close(db);
  }
};

TEST_F(AwaitableTest, ExecuteFetchallAndCommit) {
  auto db = open();
  std::vector<Row> rows;
  std::vector<Row> via_cursor;
  std::optional<std::int64_t> rowid;
  bool in_tx_after_commit = true;
  bool done = false;
  // Built outside the coroutine: GCC 12 rejects braced-list temporaries inside a coroutine body.
  const Params one{1, "one"};
  const Params two{2, "two"};
  auto body = [&]() -> Task {
    co_await db.execute("CREATE TABLE t(x INTEGER, y TEXT)", use_awaitable);
    co_await db.execute("INSERT INTO t VALUES (?, ?)", one, use_awaitable);
    rowid = co_await db.execute_insert("INSERT INTO t VALUES (?, ?)", two, use_awaitable);
    co_await db.commit(use_awaitable);
    in_tx_after_commit = db.in_transaction();
    rows = co_await db.execute_fetchall("SELECT x, y FROM t ORDER BY x", use_awaitable);
    auto cur = co_await db.execute("SELECT x FROM t ORDER BY x DESC", use_awaitable);
    via_cursor = co_await cur.fetchall(use_awaitable);
    done = true;
  };
  body();
  ASSERT_TRUE(run_until([&] { return done || g_unhandled; }));
  ASSERT_TRUE(done);
  EXPECT_EQ(rowid, std::optional<std::int64_t>(2));
  EXPECT_FALSE(in_tx_after_commit);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].get<int>(0), 1);
  EXPECT_EQ(rows[1].get<std::string>(1), "two");
  ASSERT_EQ(via_cursor.size(), 2u);
  EXPECT_EQ(via_cursor[0].get<int>(0), 2);
  close(db);
}

TEST_F(AwaitableTest, ErrorArrivesAsAnExceptionAtTheCoAwait) {
  auto db = open();
  bool caught = false;
  bool continued = false;
  auto body = [&]() -> Task {
    try {
      co_await db.execute("SELEC nonsense", use_awaitable);
      ADD_FAILURE() << "bad SQL succeeded";
    } catch (const OperationalError& e) {
      EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
      caught = true;
    }
    co_await db.execute("CREATE TABLE t(x UNIQUE)", use_awaitable);
    co_await db.execute("INSERT INTO t VALUES (1)", use_awaitable);
    try {
      co_await db.execute_insert("INSERT INTO t VALUES (1)", use_awaitable);
      ADD_FAILURE() << "duplicate insert succeeded";
    } catch (const IntegrityError&) {
      continued = true;
    }
  };
  body();
  ASSERT_TRUE(run_until([&] { return continued || g_unhandled; }));
  EXPECT_TRUE(caught);
  EXPECT_TRUE(continued);
  close(db);
}

TEST_F(AwaitableTest, UncaughtErrorPropagatesOutOfTheCoroutine) {
  auto db = open();
  auto body = [&]() -> Task {
    co_await db.commit(use_awaitable);
    co_await db.execute("SELEC", use_awaitable);  // throws out of the coroutine
  };
  body();
  ASSERT_TRUE(run_until([&] { return static_cast<bool>(g_unhandled); }));
  EXPECT_THROW(std::rethrow_exception(g_unhandled), OperationalError);
  g_unhandled = nullptr;
  close(db);
}

TEST_F(AwaitableTest, ResumesOnTheLoopThreadAndNeverInline) {
  auto db = open();
  const auto loop_thread = std::this_thread::get_id();
  bool returned = false;
  std::vector<bool> returned_when_resumed;
  std::vector<std::thread::id> threads;
  bool done = false;
  auto body = [&]() -> Task {
    co_await db.execute("SELECT 1", use_awaitable);
    returned_when_resumed.push_back(returned);
    threads.push_back(std::this_thread::get_id());
    co_await db.execute_fetchall("SELECT 2", use_awaitable);
    threads.push_back(std::this_thread::get_id());
    try {
      co_await db.execute("SELEC", use_awaitable);
    } catch (const OperationalError&) {
    }
    threads.push_back(std::this_thread::get_id());
    co_await db.commit(use_awaitable);
    threads.push_back(std::this_thread::get_id());
    done = true;
  };
  body();
  returned = true;  // the coroutine is suspended at its first co_await by now
  ASSERT_TRUE(run_until([&] { return done || g_unhandled; }));
  ASSERT_TRUE(done);
  ASSERT_EQ(returned_when_resumed.size(), 1u);
  EXPECT_TRUE(returned_when_resumed[0]) << "the coroutine resumed inside the initiating call";
  ASSERT_EQ(threads.size(), 4u);
  for (const auto& id : threads) EXPECT_EQ(id, loop_thread);
  close(db);
}

TEST_F(AwaitableTest, LooplessConnectionThrowsProgrammingErrorAtTheCoAwait) {
  auto db = connect(":memory:").get();
  bool caught = false;
  auto body = [&]() -> Task {
    try {
      co_await db.execute("SELECT 1", use_awaitable);
    } catch (const ProgrammingError&) {
      caught = true;
    }
  };
  body();
  EXPECT_TRUE(caught);
  EXPECT_EQ(db.execute_fetchall("SELECT 1").get().size(), 1u);
  db.close().get();
}

TEST_F(AwaitableTest, NextIteratesAThousandRowsInChunksOf64) { iterate_with_next(64); }

TEST_F(AwaitableTest, NextIteratesAThousandRowsInChunksOf1) { iterate_with_next(1); }

TEST_F(AwaitableTest, NextOnAnEmptyResultYieldsNothing) {
  auto db = open();
  int rows = 0;
  bool done = false;
  auto body = [&]() -> Task {
    auto cur = co_await db.execute("SELECT 1 WHERE 0", use_awaitable);
    while (auto row = co_await cur.next()) ++rows;
    done = true;
  };
  body();
  ASSERT_TRUE(run_until([&] { return done || g_unhandled; }));
  EXPECT_TRUE(done);
  EXPECT_EQ(rows, 0);
  close(db);
}

}  // namespace
}  // namespace uvsqlite::test
