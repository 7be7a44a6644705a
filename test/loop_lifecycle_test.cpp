// The loop's lifecycle around connections: many connections on one loop closing cleanly, uv_stop
// from inside a callback, closing a connection from inside its own callback.
#include <uv.h>

#include <exception>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

class LoopLifecycleTest : public LoopTest {};

TEST_F(LoopLifecycleTest, HundredConnectionsQueryThenCloseAndLoopClosesClean) {
  constexpr int kConnections = 100;
  std::vector<Connection> dbs;
  dbs.reserve(kConnections);
  for (int i = 0; i < kConnections; ++i) dbs.push_back(open());
  std::vector<int> results(kConnections, -1);
  int failures = 0;
  for (int i = 0; i < kConnections; ++i) {
    dbs[i].execute_fetchall("SELECT ? * 2", {i}, [&, i](std::exception_ptr e, std::vector<Row> rows) {
      if (e) {
        ++failures;
        return;
      }
      results[i] = rows.at(0).get<int>(0);
    });
  }
  run();
  EXPECT_EQ(failures, 0);
  for (int i = 0; i < kConnections; ++i) EXPECT_EQ(results[i], i * 2) << i;

  int closed = 0;
  for (auto& db : dbs) {
    db.close([&](std::exception_ptr e) {
      EXPECT_FALSE(e);
      ++closed;
    });
  }
  run();
  EXPECT_EQ(closed, kConnections);
  dbs.clear();
  // TearDown checks that uv_loop_close succeeds: no handle of the 100 connections is left.
}

TEST_F(LoopLifecycleTest, UvStopInsideCallbackThenRunAgainDeliversTheRestInOrder) {
  auto db = open();
  constexpr int kJobs = 20;
  std::vector<int> seen;
  // Job 4 takes a while on the worker, so jobs 4.. are still outstanding when job 3's callback
  // stops the loop.
  const std::string slow =
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) "
      "SELECT ? + 0 * count(*) FROM c";
  for (int i = 0; i < kJobs; ++i) {
    db.execute_fetchall(i == 4 ? slow : "SELECT ?", {i}, [&, i](std::exception_ptr e, std::vector<Row> rows) {
      EXPECT_FALSE(e);
      seen.push_back(rows.at(0).get<int>(0));
      EXPECT_EQ(rows.at(0).get<int>(0), i);
      if (i == 3) uv_stop(&loop_);
    });
  }
  run();  // returns early because of uv_stop
  ASSERT_GE(seen.size(), 4u);
  EXPECT_LT(seen.size(), static_cast<std::size_t>(kJobs)) << "uv_stop did not stop the loop early";
  for (std::size_t k = 0; k < seen.size(); ++k) EXPECT_EQ(seen[k], static_cast<int>(k));
  run();
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kJobs)) << "callbacks lost after uv_stop";
  for (int k = 0; k < kJobs; ++k) EXPECT_EQ(seen[k], k);
  close(db);
}

TEST_F(LoopLifecycleTest, CloseFromInsideOwnCallbackWithChainStillPending) {
  auto db = open();
  std::vector<std::string> order;
  bool chained_ok = false;
  bool closed = false;
  bool after_close_failed = false;
  db.execute_fetchall("SELECT 1", [&](std::exception_ptr e, std::vector<Row>) {
    EXPECT_FALSE(e);
    order.push_back("first");
    // The chain: a query queued before close, the close itself, and one queued after it.
    db.execute_fetchall("SELECT 2", [&](std::exception_ptr e2, std::vector<Row> rows) {
      EXPECT_FALSE(e2);
      if (!e2) chained_ok = rows.at(0).get<int>(0) == 2;
      order.push_back("chained");
    });
    db.close([&](std::exception_ptr e3) {
      EXPECT_FALSE(e3);
      order.push_back("close");
      closed = true;
    });
    db.execute_fetchall("SELECT 3", [&](std::exception_ptr e4, std::vector<Row>) {
      expect_error<ProgrammingError>(e4);
      after_close_failed = e4 != nullptr;
    });
  });
  ASSERT_TRUE(run_until([&] { return closed && after_close_failed; }, std::chrono::seconds(5)));
  run();
  EXPECT_TRUE(chained_ok);
  ASSERT_GE(order.size(), 3u);
  EXPECT_EQ(order[0], "first");
  EXPECT_EQ(order[1], "chained");
  EXPECT_EQ(order[2], "close");
}

}  // namespace
}  // namespace uvsqlite::test
