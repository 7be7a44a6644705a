// Two connections on one file: the busy timeout (Options::timeout) bounds how long a writer waits
// for another's lock before "database is locked", and lets it through when the lock is released.
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class BusyTest : public LoopTest {
 protected:
  Connection open_with_timeout(const std::string& path, double timeout) {
    Options options;
    options.timeout = timeout;
    return open(path, options);
  }
};

TEST_F(BusyTest, WriteFailsWithDatabaseIsLockedAfterTimeoutThenSucceedsAfterCommit) {
  const auto path = dir_.file("busy.db");
  auto first = open(path);
  first.execute("CREATE TABLE t(x)").get();
  first.execute("INSERT INTO t VALUES (1)").get();
  first.commit().get();

  auto second = open_with_timeout(path, 0.2);
  first.execute("BEGIN IMMEDIATE").get();
  first.execute("INSERT INTO t VALUES (2)").get();

  const auto start = Clock::now();
  auto error = error_of(second.execute("INSERT INTO t VALUES (3)"));
  const auto waited = Clock::now() - start;
  expect_error<OperationalError>(error, "database is locked");
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 5s);
  second.rollback().get();  // release whatever the failed transaction holds

  EXPECT_EQ(second.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), 1)
      << "the committed row is visible, the uncommitted one is not";

  first.commit().get();
  EXPECT_FALSE(error_of(second.execute("INSERT INTO t VALUES (3)")));
  second.commit().get();
  EXPECT_EQ(first.execute_fetchall("SELECT x FROM t ORDER BY x").get().size(), 3u);
  close(second);
  close(first);
}

TEST_F(BusyTest, BusyTimeoutWaitsForCompetitorThatCommitsSoon) {
  const auto path = dir_.file("wait.db");
  auto first = open(path);
  first.execute("CREATE TABLE t(x)").get();
  first.commit().get();
  auto second = open_with_timeout(path, 2.0);

  first.execute("BEGIN IMMEDIATE").get();
  first.execute("INSERT INTO t VALUES (1)").get();
  const auto start = Clock::now();
  auto pending = second.execute("INSERT INTO t VALUES (2)");
  std::this_thread::sleep_for(100ms);
  first.commit().get();
  EXPECT_FALSE(error_of(pending));
  EXPECT_LT(Clock::now() - start, 2s);
  second.commit().get();
  EXPECT_EQ(first.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), 2);
  close(second);
  close(first);
}

// Two uvsqlite connections in one process, each in a read transaction, both wanting to write:
// SQLite sees the deadlock and fails the second writer at once (no busy wait), the first commits
// once the second gives up its lock, and nothing committed is lost.
TEST_F(BusyTest, TwoWritersInOneProcessDoNotDeadlock) {
  const auto path = dir_.file("deadlock.db");
  auto a = open_with_timeout(path, 5.0);
  a.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1);").get();
  auto b = open_with_timeout(path, 5.0);
  a.execute("BEGIN").get();
  b.execute("BEGIN").get();
  EXPECT_EQ(a.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), 1);  // shared lock
  EXPECT_EQ(b.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), 1);  // shared lock
  a.execute("INSERT INTO t VALUES (2)").get();  // a takes the reserved lock

  const auto start = Clock::now();
  auto error = error_of(b.execute("INSERT INTO t VALUES (3)"));
  const auto waited = Clock::now() - start;
  expect_error<OperationalError>(error, "database is locked");
  EXPECT_LT(waited, 2s) << "the deadlock was waited out instead of detected";

  // a's commit needs b's shared lock gone: it waits (busy timeout) while b rolls back.
  auto committed = a.commit();
  b.rollback().get();
  EXPECT_FALSE(error_of(std::move(committed)));
  EXPECT_EQ(b.execute_fetchall("SELECT x FROM t ORDER BY x").get().size(), 2U);
  b.execute("INSERT INTO t VALUES (3)").get();
  b.commit().get();
  EXPECT_EQ(a.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), 3);
  close(b);
  close(a);
}

}  // namespace
}  // namespace uvsqlite::test
