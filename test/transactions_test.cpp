// Transactions: Python 3.11's legacy (isolation_level) rules, and the immediate properties.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "support/test_support.hpp"

namespace {

using uvsqlite::Connection;
using uvsqlite::Options;

class Transactions : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("tx.db");
    db_ = uvsqlite::connect(path_).get();
    db_.execute("CREATE TABLE t(x)").get();
    Options reader_options;
    reader_options.timeout = 0;  // a lock conflict fails at once instead of waiting
    reader_ = uvsqlite::connect(path_, reader_options).get();
  }
  void TearDown() override {
    reader_.close().get();
    db_.close().get();
  }

  // Rows of t as another connection on the same file sees them.
  std::int64_t seen_by_other() {
    return reader_.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<std::int64_t>(0);
  }
  std::int64_t seen_by_self() {
    return db_.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<std::int64_t>(0);
  }

  uvsqlite::test::TempDir dir_;
  std::string path_;
  Connection db_;
  Connection reader_;
};

TEST_F(Transactions, DefaultIsolationLevelIsEmptyString) {
  EXPECT_EQ(db_.isolation_level(), std::optional<std::string>(""));
}

TEST_F(Transactions, NoTransactionAtFirst) { EXPECT_FALSE(db_.in_transaction()); }

TEST_F(Transactions, CreateTableDoesNotOpenATransaction) {
  db_.execute("CREATE TABLE other(y)").get();
  EXPECT_FALSE(db_.in_transaction());
}

TEST_F(Transactions, InsertOpensATransaction) {
  db_.execute("INSERT INTO t VALUES (1)").get();
  EXPECT_TRUE(db_.in_transaction());
  EXPECT_EQ(seen_by_other(), 0);
  EXPECT_EQ(seen_by_self(), 1);
}

TEST_F(Transactions, UpdateDeleteAndReplaceOpenATransaction) {
  for (const char* sql : {"UPDATE t SET x = 1", "DELETE FROM t", "REPLACE INTO t VALUES (1)"}) {
    SCOPED_TRACE(sql);
    db_.execute(sql).get();
    EXPECT_TRUE(db_.in_transaction());
    db_.rollback().get();
    EXPECT_FALSE(db_.in_transaction());
  }
}

TEST_F(Transactions, CommitEndsItAndPublishesTheRows) {
  db_.execute("INSERT INTO t VALUES (1)").get();
  db_.commit().get();
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(seen_by_other(), 1);
}

TEST_F(Transactions, RollbackDiscardsTheRows) {
  db_.execute("INSERT INTO t VALUES (1)").get();
  db_.execute("INSERT INTO t VALUES (2)").get();
  db_.rollback().get();
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(seen_by_self(), 0);
  EXPECT_EQ(seen_by_other(), 0);
}

TEST_F(Transactions, CommitAndRollbackWithoutATransactionAreNoOps) {
  EXPECT_NO_THROW(db_.commit().get());
  EXPECT_NO_THROW(db_.rollback().get());
  EXPECT_FALSE(db_.in_transaction());
}

TEST_F(Transactions, SelectDoesNotOpenATransaction) {
  db_.execute_fetchall("SELECT * FROM t").get();
  EXPECT_FALSE(db_.in_transaction());
  db_.execute("SELECT count(*) FROM t").get().fetchall().get();
  EXPECT_FALSE(db_.in_transaction());
}

TEST_F(Transactions, CommentBeforeInsertStillCountsAsDml) {
  db_.execute("/* leading */ -- line comment\n  INSERT INTO t VALUES (1)").get();
  EXPECT_TRUE(db_.in_transaction());
  EXPECT_EQ(seen_by_other(), 0);
}

TEST_F(Transactions, LowercaseInsertCountsAsDml) {
  db_.execute("insert into t values (1)").get();
  EXPECT_TRUE(db_.in_transaction());
}

TEST_F(Transactions, ExecutemanyOpensATransaction) {
  db_.executemany("INSERT INTO t VALUES (?)", {{1}, {2}}).get();
  EXPECT_TRUE(db_.in_transaction());
  EXPECT_EQ(seen_by_other(), 0);
}

TEST_F(Transactions, ExplicitBeginAndCommitAreTracked) {
  db_.execute("BEGIN").get();
  EXPECT_TRUE(db_.in_transaction());
  db_.execute("INSERT INTO t VALUES (1)").get();
  db_.execute("COMMIT").get();
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(seen_by_other(), 1);
}

TEST_F(Transactions, ExecutescriptCommitsFirst) {
  db_.execute("INSERT INTO t VALUES (1)").get();
  ASSERT_TRUE(db_.in_transaction());
  db_.executescript("SELECT 1;").get();
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(seen_by_other(), 1);
}

TEST_F(Transactions, ExecutescriptStatementsAutocommit) {
  db_.executescript("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);").get();
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(seen_by_other(), 2);
}

TEST_F(Transactions, ExecutescriptMayManageItsOwnTransaction) {
  db_.executescript("BEGIN; INSERT INTO t VALUES (1);").get();
  EXPECT_TRUE(db_.in_transaction());
  db_.rollback().get();
  EXPECT_EQ(seen_by_self(), 0);
}

TEST_F(Transactions, AutocommitFromOptions) {
  Options options;
  options.isolation_level = std::nullopt;
  auto auto_db = uvsqlite::connect(path_, std::move(options)).get();
  EXPECT_EQ(auto_db.isolation_level(), std::nullopt);
  auto_db.execute("INSERT INTO t VALUES (1)").get();
  EXPECT_FALSE(auto_db.in_transaction());
  EXPECT_EQ(seen_by_other(), 1);
  auto_db.close().get();
}

TEST_F(Transactions, AutocommitRollbackDoesNothing) {
  db_.set_isolation_level(std::nullopt).get();
  db_.execute("INSERT INTO t VALUES (1)").get();
  db_.rollback().get();
  EXPECT_EQ(seen_by_other(), 1);
}

TEST_F(Transactions, SettingAutocommitCommitsTheOpenTransaction) {
  db_.execute("INSERT INTO t VALUES (1)").get();
  ASSERT_TRUE(db_.in_transaction());
  db_.set_isolation_level(std::nullopt).get();
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(db_.isolation_level(), std::nullopt);
  EXPECT_EQ(seen_by_other(), 1);
}

TEST_F(Transactions, SettingALevelKeepsTheOpenTransaction) {
  db_.execute("INSERT INTO t VALUES (1)").get();
  db_.set_isolation_level("IMMEDIATE").get();
  EXPECT_TRUE(db_.in_transaction());
  db_.rollback().get();
  EXPECT_EQ(seen_by_self(), 0);
}

TEST_F(Transactions, AcceptedLevelsAreReported) {
  for (const char* level : {"IMMEDIATE", "EXCLUSIVE", "DEFERRED", ""}) {
    SCOPED_TRACE(level);
    db_.set_isolation_level(std::string(level)).get();
    EXPECT_EQ(db_.isolation_level(), std::optional<std::string>(level));
    db_.execute("INSERT INTO t VALUES (1)").get();
    EXPECT_TRUE(db_.in_transaction());
    db_.rollback().get();
  }
}

TEST_F(Transactions, BackToALevelFromAutocommitOpensTransactionsAgain) {
  db_.set_isolation_level(std::nullopt).get();
  db_.set_isolation_level("DEFERRED").get();
  db_.execute("INSERT INTO t VALUES (1)").get();
  EXPECT_TRUE(db_.in_transaction());
}

TEST_F(Transactions, UnknownLevelIsAProgrammingError) {
  db_.set_isolation_level("IMMEDIATE").get();
  EXPECT_THROW(db_.set_isolation_level("foo").get(), uvsqlite::ProgrammingError);
  EXPECT_EQ(db_.isolation_level(), std::optional<std::string>("IMMEDIATE"));
}

TEST_F(Transactions, UnknownLevelInOptionsFailsToConnect) {
  Options options;
  options.isolation_level = "foo";
  EXPECT_THROW((void)uvsqlite::connect(path_, options).get(), uvsqlite::Error);
}

TEST_F(Transactions, ExclusiveLevelIssuesBeginExclusive) {
  db_.set_isolation_level("EXCLUSIVE").get();
  db_.execute("INSERT INTO t VALUES (1)").get();
  // In rollback-journal mode an EXCLUSIVE lock blocks readers; DEFERRED would not.
  auto rows = reader_.execute_fetchall("SELECT count(*) FROM t");
  try {
    (void)rows.get();
    ADD_FAILURE() << "the other connection could read: BEGIN EXCLUSIVE was not issued";
  } catch (const uvsqlite::OperationalError& e) {
    EXPECT_EQ(e.sqlite_errorcode() & 0xff, 5);  // SQLITE_BUSY
    EXPECT_STREQ(e.what(), "database is locked");
  }
  db_.rollback().get();
}

TEST_F(Transactions, DeferredLevelLetsReadersRead) {
  db_.set_isolation_level("DEFERRED").get();
  db_.execute("INSERT INTO t VALUES (1)").get();
  EXPECT_EQ(seen_by_other(), 0);
}

TEST_F(Transactions, CloseRollsBackTheOpenTransaction) {
  db_.execute("INSERT INTO t VALUES (1)").get();
  db_.close().get();
  db_ = uvsqlite::connect(path_).get();
  EXPECT_EQ(seen_by_self(), 0);
}

TEST_F(Transactions, TotalChangesCounts) {
  auto mem = uvsqlite::connect(":memory:").get();
  EXPECT_EQ(mem.total_changes(), 0);
  mem.execute("CREATE TABLE t(x)").get();
  EXPECT_EQ(mem.total_changes(), 0);
  mem.execute("INSERT INTO t VALUES (1), (2)").get();
  EXPECT_EQ(mem.total_changes(), 2);
  mem.execute("UPDATE t SET x = x + 1").get();
  EXPECT_EQ(mem.total_changes(), 4);
  mem.executemany("INSERT INTO t VALUES (?)", {{3}, {4}, {5}}).get();
  EXPECT_EQ(mem.total_changes(), 7);
  mem.close().get();
}

TEST_F(Transactions, PropertiesReflectTheLastCompletedJob) {
  // Each read below happens right after the future of a job is fulfilled: no extra wait.
  db_.execute("INSERT INTO t VALUES (1)").get();
  EXPECT_TRUE(db_.in_transaction());
  EXPECT_EQ(db_.total_changes(), 1);
  db_.commit().get();
  EXPECT_FALSE(db_.in_transaction());
  db_.set_isolation_level("EXCLUSIVE").get();
  EXPECT_EQ(db_.isolation_level(), std::optional<std::string>("EXCLUSIVE"));
}

TEST_F(Transactions, CopiesOfAConnectionShareTheState) {
  Connection copy = db_;
  copy.execute("INSERT INTO t VALUES (1)").get();
  EXPECT_TRUE(db_.in_transaction());
  EXPECT_EQ(copy, db_);
}

TEST_F(Transactions, FailedInsertLeavesTheTransactionOpen) {
  db_.execute("CREATE TABLE u(a UNIQUE)").get();
  db_.execute("INSERT INTO u VALUES (1)").get();
  EXPECT_THROW((void)db_.execute("INSERT INTO u VALUES (1)").get(), uvsqlite::IntegrityError);
  EXPECT_TRUE(db_.in_transaction());
  db_.rollback().get();
  EXPECT_EQ(db_.execute_fetchall("SELECT count(*) FROM u").get().at(0).get<int>(0), 0);
}

}  // namespace
