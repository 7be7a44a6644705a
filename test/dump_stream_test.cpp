// The streamed iterdump's statement belongs to the connection's worker: a close() in the middle
// of the stream, or a stream cut short by a throwing consumer, finalizes it there, and the
// connection closes for real (its file is released) when close() completes.
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

using DumpStreamTest = LoopTest;

void fill(const Connection& db, int rows) {
  db.execute("CREATE TABLE t(x INTEGER, y TEXT)").get();
  std::vector<Params> params;
  for (int i = 0; i < rows; ++i) params.push_back({i, "row " + std::to_string(i)});
  db.executemany("INSERT INTO t VALUES (?, ?)", std::move(params)).get();
  db.commit().get();
}

TEST_F(DumpStreamTest, CloseInTheMiddleOfAStreamEndsItAndReallyCloses) {
  const std::string path = dir_.file("stream.db");
  auto db = open(path);
  fill(db, 2000);
  int chunks = 0;
  bool done = false;
  bool closed = false;
  std::exception_ptr stream_error;
  db.iterdump(
      [&](std::vector<std::string>) {
        if (++chunks == 1) {
          db.close([&](std::exception_ptr e) {
            EXPECT_FALSE(e);
            closed = true;
          });
        }
      },
      [&](std::exception_ptr e) {
        stream_error = e;
        done = true;
      },
      10);
  ASSERT_TRUE(run_until([&] { return done && closed; }));
  EXPECT_EQ(chunks, 1);
  expect_error<ProgrammingError>(stream_error, "closed");
  // Closed for real: another connection can take an exclusive lock and change the schema.
  auto other = open(path);
  other.execute("BEGIN EXCLUSIVE").get();
  other.execute("DROP TABLE t").get();
  other.commit().get();
  close(other);
}

TEST_F(DumpStreamTest, AStreamCutShortByAThrowingConsumerLeavesTheConnectionUsable) {
  auto db = open();
  fill(db, 500);
  std::vector<std::exception_ptr> escaped;
  db.set_error_handler([&](std::exception_ptr e) { escaped.push_back(e); });
  db.iterdump([](std::vector<std::string>) { throw std::runtime_error("consumer gave up"); },
              [](std::exception_ptr) { ADD_FAILURE() << "the stream went on after its consumer threw"; }, 10);
  ASSERT_TRUE(run_until([&] { return !escaped.empty(); }));
  // The abandoned dump's statement is finalized on the worker: the table can be dropped (an
  // unfinalized statement reading it would make DROP TABLE fail with "database table is locked").
  run_until([] { return false; }, std::chrono::milliseconds(50));
  db.execute("DROP TABLE t").get();
  EXPECT_EQ(db.iterdump().get(), (std::vector<std::string>{"BEGIN TRANSACTION;", "COMMIT;"}));
  close(db);
}

// A cursor keeps its connection's loop handle in service: with every Connection handle gone, a
// callback form on the cursor submitted from another thread is still called back.
TEST_F(DumpStreamTest, ACursorAloneKeepsTheLoopHandleForOtherThreads) {
  Cursor cursor;
  {
    auto db = open();
    fill(db, 3);
    cursor = db.execute("SELECT x FROM t ORDER BY x").get();
  }
  bool called = false;
  std::vector<Row> rows;
  std::thread([&] {
    cursor.fetchall([&](std::exception_ptr e, std::vector<Row> r) {
      EXPECT_FALSE(e);
      rows = std::move(r);
      called = true;
    });
  }).join();
  // Keep the loop alive while the other thread's submission wakes it.
  uv_timer_t keepalive;
  uv_timer_init(&loop_, &keepalive);
  uv_timer_start(
      &keepalive, [](uv_timer_t*) {}, 1, 1);
  EXPECT_TRUE(run_until([&] { return called; }));
  uv_close(reinterpret_cast<uv_handle_t*>(&keepalive), nullptr);
  EXPECT_EQ(rows.size(), 3U);
  cursor = Cursor{};
  run();
}

}  // namespace
}  // namespace uvsqlite::test
