// I/O faults injected under SQLite through a shim VFS (support/fault_vfs.hpp): a failing read,
// write, fsync, lock or truncation surfaces as the exception class CPython maps its code to, with
// SQLite's code, name and message; the connection works again once the fault clears; and the
// database stays whole: every committed row is there, a transaction whose COMMIT failed is there
// entirely or not at all, and PRAGMA integrity_check says ok, before and after reopening. The
// tests run in rollback-journal (DELETE) and WAL mode where both apply; a few test what only one
// of them does.
#include <sqlite3.h>

#include <array>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "support/fault_vfs.hpp"
#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

constexpr int kPageSize = 4096;  // SQLite's default; min_offset = kPageSize spares page 1

/// Expects `error` to hold exactly an E (not a subclass of it) that carries SQLite's `code`, its
/// name and `message`.
template <class E>
void expect_sqlite_error(const std::exception_ptr& error, int code, const std::string& name,
                         const std::string& message) {
  ASSERT_TRUE(error) << "expected " << name << ", got success";
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    EXPECT_EQ(typeid(e), typeid(E)) << "wrong class " << typeid(e).name() << ": " << e.what();
    EXPECT_EQ(e.sqlite_errorcode(), code) << e.sqlite_errorname() << ": " << e.what();
    EXPECT_EQ(e.sqlite_errorname(), name);
    EXPECT_EQ(std::string(e.what()), message);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a uvsqlite::Error: " << typeid(e).name() << ": " << e.what();
  }
}

/// The exception that escaped the last Task coroutine, if any (see test_support.hpp).
std::exception_ptr& g_escaped = escaped_from_task();

/// The fixture: the shared fault VFS, databases through it in one journal mode, and checks.
class FaultTest : public LoopTest {
 protected:
  /// The journal mode the test runs in: "delete" or "wal".
  [[nodiscard]] virtual const char* mode() const = 0;

  // One VFS for the whole process, never unregistered: a connection that a failed assertion
  // drops without close() still closes its files through it in the background.
  static FaultVfs& vfs() {
    static auto* instance = new FaultVfs;
    return *instance;
  }

  void SetUp() override {
    LoopTest::SetUp();
    vfs().clear();
    for (std::size_t i = 0; i < kFaultOpCount; ++i) before_[i] = vfs().injected(static_cast<FaultOp>(i));
  }

  void TearDown() override {
    vfs().clear();
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < kFaultOpCount; ++i) total += injected(static_cast<FaultOp>(i));
    RecordProperty("faults_injected", std::to_string(total));
    LoopTest::TearDown();
  }

  /// Failures injected into `op` by this test.
  [[nodiscard]] std::uint64_t injected(FaultOp op) const {
    return vfs().injected(op) - before_[static_cast<std::size_t>(op)];
  }

  static void TearDownTestSuite() {
    std::printf("[ faults  ] %llu injected in this process so far\n",
                static_cast<unsigned long long>(FaultVfs::injected_in_process()));
  }

  [[nodiscard]] bool wal() const { return std::string(mode()) == "wal"; }

  /// Writes to the database content: the file in DELETE mode, the log in WAL mode.
  [[nodiscard]] unsigned content_file() const { return wal() ? kWal : kMainDb; }

  /// Opens `file` of the test's directory through the fault VFS.
  Connection open_db(const std::string& file = "fault.db", Options options = {}) {
    options.uri = true;
    return open(vfs().uri(dir_.file(file)), std::move(options));
  }

  /// A new database in the test's journal mode with `rows` committed rows: t(id 1..rows, payload of
  /// 500 random bytes, so that a few dozen rows span several pages).
  Connection create_db(int rows, const std::string& file = "fault.db", Options options = {}) {
    auto db = open_db(file, std::move(options));
    const auto set = db.execute_fetchall(std::string("PRAGMA journal_mode = ") + mode()).get();
    EXPECT_EQ(set.at(0).get<std::string>(0), mode());
    db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, payload BLOB NOT NULL)").get();
    insert(db, 1, rows).get();
    db.commit().get();
    return db;
  }

  /// Inserts ids first..last in one executemany (inside the implicit transaction).
  static std::future<Cursor> insert(const Connection& db, int first, int last) {
    return db.executemany("INSERT INTO t(id, payload) VALUES (?, randomblob(500))", rows(first, last));
  }

  static std::vector<Params> rows(int first, int last) {
    std::vector<Params> seq;
    for (int id = first; id <= last; ++id) seq.push_back(Params{id});
    return seq;
  }

  /// The ids in t, in order.
  static std::vector<std::int64_t> ids(const Connection& db) {
    std::vector<std::int64_t> out;
    for (const Row& row : db.execute_fetchall("SELECT id FROM t ORDER BY id").get()) {
      out.push_back(row.get<std::int64_t>(0));
    }
    return out;
  }

  /// 1..n.
  static std::vector<std::int64_t> range(int n) {
    std::vector<std::int64_t> out;
    for (int id = 1; id <= n; ++id) out.push_back(id);
    return out;
  }

  static std::string integrity(const Connection& db) {
    return db.execute_fetchall("PRAGMA integrity_check").get().at(0).get<std::string>(0);
  }

  /// Closes `db`, reopens the file and expects exactly ids 1..n and an intact database there.
  void expect_on_disk(Connection& db, int n, const std::string& file = "fault.db") {
    close(db);
    auto again = open_db(file);
    EXPECT_EQ(ids(again), range(n)) << "after reopening";
    EXPECT_EQ(integrity(again), "ok") << "after reopening";
    close(again);
  }

  /// Runs a callback-form operation that completes with a T; returns its error and its value.
  template <class T, class Start>
  std::pair<std::exception_ptr, std::optional<T>> wait_value(Start&& start) {
    bool done = false;
    std::pair<std::exception_ptr, std::optional<T>> out;
    std::forward<Start>(start)([&](std::exception_ptr e, T value) {
      out.first = e;
      if (!e) out.second.emplace(std::move(value));
      done = true;
    });
    EXPECT_TRUE(run_until([&] { return done; }));
    return out;
  }

  std::array<std::uint64_t, kFaultOpCount> before_{};
};

/// Tests that make sense in both journal modes, run in each.
class FaultInjectionTest : public FaultTest, public ::testing::WithParamInterface<const char*> {
 protected:
  [[nodiscard]] const char* mode() const override { return GetParam(); }
};

/// Tests of what only a rollback journal does.
class RollbackJournalFaultTest : public FaultTest {
 protected:
  [[nodiscard]] const char* mode() const override { return "delete"; }
};

/// Tests of what only WAL mode does.
class WalFaultTest : public FaultTest {
 protected:
  [[nodiscard]] const char* mode() const override { return "wal"; }
};

// A read fails in the middle of a query: the query fails with SQLITE_IOERR_READ as an
// OperationalError; the very same query then succeeds, and so do writes.
TEST_P(FaultInjectionTest, ReadErrorIsOperationalErrorThenTheConnectionWorks) {
  auto writer = create_db(100);
  close(writer);

  auto db = open_db();  // a fresh page cache: the query below must read the file
  Fault fault;
  fault.code = SQLITE_IOERR_READ;
  fault.files = kMainDb;
  fault.min_offset = kPageSize;  // the schema on page 1 loads; a page of t fails
  vfs().arm(FaultOp::Read, fault);
  auto error = error_of(db.execute_fetchall("SELECT count(*), sum(length(payload)) FROM t"));
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_READ, "SQLITE_IOERR_READ", "disk I/O error");
  EXPECT_EQ(injected(FaultOp::Read), 1u);
  EXPECT_FALSE(db.in_transaction());

  const auto rows = db.execute_fetchall("SELECT count(*), sum(length(payload)) FROM t").get();
  EXPECT_EQ(rows.at(0).get<int>(0), 100);
  EXPECT_EQ(rows.at(0).get<int>(1), 100 * 500);
  insert(db, 101, 110).get();
  db.commit().get();
  EXPECT_EQ(ids(db), range(110));
  EXPECT_EQ(integrity(db), "ok");
  expect_on_disk(db, 110);
}

// The first statement of a connection reads the schema from page 1 while it is prepared: a read
// error there fails the statement from sqlite3_prepare, with the same class and code.
TEST_P(FaultInjectionTest, ReadErrorWhileLoadingTheSchemaFailsThePrepare) {
  auto writer = create_db(10);
  close(writer);
  auto db = open_db();
  vfs().fail_next(FaultOp::Read, SQLITE_IOERR_READ, 1, kMainDb);
  auto error = error_of(db.execute("SELECT id FROM t"));
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_READ, "SQLITE_IOERR_READ", "disk I/O error");
  EXPECT_EQ(injected(FaultOp::Read), 1u);
  EXPECT_EQ(ids(db), range(10));
  expect_on_disk(db, 10);
}

// ROLLBACK of a transaction whose pages already spilled to the files, while every write fails:
// the rollback itself succeeds and ends the transaction. In DELETE mode the database file still
// holds the spilled pages, so until a write succeeds the next read fails (it must first put the
// original pages back from the hot journal) rather than show them; in WAL mode the uncommitted
// frames are simply forgotten. Once writes work, exactly the committed rows are there.
TEST_P(FaultInjectionTest, RollbackDuringWriteFaultNeverShowsTheRolledBackRows) {
  auto db = create_db(20);
  db.execute_fetchall("PRAGMA cache_size = 10").get();
  insert(db, 21, 500).get();  // spills
  vfs().fail_until_cleared(FaultOp::Write, SQLITE_IOERR_WRITE);
  EXPECT_FALSE(wait_void([&](auto done) { db.rollback(std::move(done)); }));
  EXPECT_FALSE(db.in_transaction());

  auto [error, rows] = wait_value<std::vector<Row>>(
      [&](auto done) { db.execute_fetchall("SELECT count(*) FROM t", std::move(done)); });
  if (wal()) {
    ASSERT_FALSE(error) << describe(error);
    EXPECT_EQ(rows->at(0).get<int>(0), 20);
  } else {
    expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_WRITE, "SQLITE_IOERR_WRITE", "disk I/O error");
    EXPECT_GE(injected(FaultOp::Write), 1u);
  }
  vfs().clear();
  EXPECT_EQ(ids(db), range(20));
  EXPECT_EQ(integrity(db), "ok");
  expect_on_disk(db, 20);
}

// A cursor still open on a SELECT while the connection's COMMIT fails (the rolled-back rows have
// ids after the cursor's position): the cursor goes on with the committed rows and never returns
// one of the rolled-back transaction; SQLite may instead abort it (SQLITE_ABORT_ROLLBACK, an
// OperationalError), but never half of either.
TEST_P(FaultInjectionTest, OpenCursorAcrossAFailedCommitSeesOnlyCommittedRows) {
  auto db = create_db(100);
  auto cursor = db.execute("SELECT id FROM t ORDER BY id").get();
  ASSERT_EQ(cursor.fetchmany(10).get().size(), 10u);
  insert(db, 101, 160).get();

  Fault fault;
  fault.code = SQLITE_IOERR_WRITE;
  fault.files = content_file();
  fault.skip = 1;
  vfs().arm(FaultOp::Write, fault);
  expect_sqlite_error<OperationalError>(error_of(db.commit()), SQLITE_IOERR_WRITE, "SQLITE_IOERR_WRITE",
                                        "disk I/O error");

  auto [error, rest] = wait_value<std::vector<Row>>([&](auto done) { cursor.fetchall(std::move(done)); });
  if (error) {
    expect_sqlite_error<OperationalError>(error, SQLITE_ABORT_ROLLBACK, "SQLITE_ABORT_ROLLBACK",
                                          "abort due to ROLLBACK");
  } else {
    std::vector<std::int64_t> got;
    for (const Row& row : *rest) got.push_back(row.get<std::int64_t>(0));
    std::vector<std::int64_t> expected;
    for (int id = 11; id <= 100; ++id) expected.push_back(id);
    EXPECT_EQ(got, expected);
  }
  EXPECT_EQ(ids(db), range(100));
  expect_on_disk(db, 100);
}

// The database file cannot be opened (callback form of connect): the connect fails with
// SQLITE_CANTOPEN as an OperationalError and its worker thread is gone; the next connect works.
TEST_P(FaultInjectionTest, OpenErrorFailsTheConnectAndEndsItsThread) {
  auto writer = create_db(10);
  close(writer);
  const std::size_t threads = thread_count();

  vfs().fail_next(FaultOp::Open, SQLITE_CANTOPEN, 1, kMainDb);
  Options options;
  options.uri = true;
  auto [error, db] = wait_value<Connection>(
      [&](auto done) { connect(&loop_, vfs().uri(dir_.file("fault.db")), options, std::move(done)); });
  expect_sqlite_error<OperationalError>(error, SQLITE_CANTOPEN, "SQLITE_CANTOPEN",
                                        "unable to open database file");
  EXPECT_EQ(injected(FaultOp::Open), 1u);
  EXPECT_TRUE(run_until([&] { return thread_count() == threads; })) << "the worker thread is still there";

  auto again = open_db();
  EXPECT_EQ(ids(again), range(10));
  close(again);
}

// A read that comes back short (zero-filled) gives SQLite a page of zeros: it reports the database
// as malformed, SQLITE_CORRUPT, which CPython raises as DatabaseError (not OperationalError). The
// file itself was never damaged: a connection that reads it whole finds everything.
TEST_P(FaultInjectionTest, ShortReadOfAPageIsCorruptDatabaseError) {
  auto writer = create_db(100);
  close(writer);

  auto db = open_db();
  Fault fault;
  fault.code = SQLITE_IOERR_SHORT_READ;
  fault.files = kMainDb;
  fault.min_offset = kPageSize;
  fault.times = kUntilCleared;
  vfs().arm(FaultOp::Read, fault);
  auto error = error_of(db.execute_fetchall("SELECT count(*), sum(length(payload)) FROM t"));
  expect_sqlite_error<DatabaseError>(error, SQLITE_CORRUPT, "SQLITE_CORRUPT",
                                     "database disk image is malformed");
  EXPECT_GE(injected(FaultOp::Read), 1u);
  vfs().clear();
  // SQLite took the short read for the page's content and keeps it in this connection's page
  // cache (the file did not change); a new connection reads the file again.
  expect_on_disk(db, 100);
}

// A write of the database content fails during COMMIT (callback form). After the first page is
// written and the second fails, the transaction must not be half there: it is rolled back whole.
TEST_P(FaultInjectionTest, WriteErrorDuringCommitLeavesNoHalfTransaction) {
  auto db = create_db(20);
  insert(db, 21, 80).get();  // about 8 pages, all in the page cache until COMMIT
  ASSERT_TRUE(db.in_transaction());

  Fault fault;
  fault.code = SQLITE_IOERR_WRITE;
  fault.files = content_file();
  fault.skip = 1;  // one page reaches the file, then the write fails
  vfs().arm(FaultOp::Write, fault);
  auto error = wait_void([&](auto done) { db.commit(std::move(done)); });
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_WRITE, "SQLITE_IOERR_WRITE", "disk I/O error");
  EXPECT_EQ(injected(FaultOp::Write), 1u);

  // SQLite rolled the whole transaction back: neither the connection nor the file has any of it.
  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(ids(db), range(20));
  EXPECT_EQ(integrity(db), "ok");

  // The same transaction again, with the fault gone.
  auto [again_error, cursor] = wait_value<Cursor>([&](auto done) {
    db.executemany("INSERT INTO t(id, payload) VALUES (?, zeroblob(500))", rows(21, 80), std::move(done));
  });
  ASSERT_FALSE(again_error) << describe(again_error);
  EXPECT_EQ(cursor->rowcount(), 60);
  EXPECT_FALSE(wait_void([&](auto done) { db.commit(std::move(done)); }));
  EXPECT_EQ(ids(db), range(80));
  expect_on_disk(db, 80);
}

// fsync fails during COMMIT: in DELETE mode the database file's sync, after its pages were written
// over (the journal is still hot); in WAL mode the log's sync, after the frames were appended.
// Either way the COMMIT reports SQLITE_IOERR_FSYNC and the transaction is not committed.
TEST_P(FaultInjectionTest, FsyncErrorDuringCommitLeavesTransactionOut) {
  auto db = create_db(20);
  insert(db, 21, 80).get();

  vfs().fail_next(FaultOp::Sync, SQLITE_IOERR_FSYNC, 1, content_file());
  auto error = error_of(db.commit());
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_FSYNC, "SQLITE_IOERR_FSYNC", "disk I/O error");
  EXPECT_EQ(injected(FaultOp::Sync), 1u);

  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(ids(db), range(20));
  EXPECT_EQ(integrity(db), "ok");

  insert(db, 21, 30).get();
  db.commit().get();
  EXPECT_EQ(ids(db), range(30));
  EXPECT_EQ(integrity(db), "ok");
  expect_on_disk(db, 30);
}

// What a crash right after a failed COMMIT would leave on disk (the database with its journal or
// log, copied while the connection is idle) recovers to all of the transaction or none of it,
// never part of it: the write fault tears the COMMIT after one page, the fsync fault after every
// page was written (in WAL mode the log then holds the whole transaction and its commit record,
// so recovery may keep it).
TEST_P(FaultInjectionTest, CrashAfterFailedCommitRecoversAllOrNothing) {
  for (const FaultOp op : {FaultOp::Write, FaultOp::Sync}) {
    SCOPED_TRACE(op == FaultOp::Write ? "write fault" : "fsync fault");
    const std::string name = op == FaultOp::Write ? "torn.db" : "unsynced.db";
    auto db = create_db(20, name);
    insert(db, 21, 80).get();
    Fault fault;
    fault.code = op == FaultOp::Write ? SQLITE_IOERR_WRITE : SQLITE_IOERR_FSYNC;
    fault.files = content_file();
    fault.skip = op == FaultOp::Write ? 1 : 0;
    vfs().arm(op, fault);
    ASSERT_TRUE(error_of(db.commit()));
    ASSERT_EQ(injected(op), 1u);

    // The crash: copy the files as they are now, before the connection touches them again.
    for (const char* suffix : {"", "-journal", "-wal"}) {
      const std::filesystem::path from = dir_.file(name) + suffix;
      if (std::filesystem::exists(from)) {
        std::filesystem::copy_file(from, dir_.file("crash-" + name) + suffix);
      }
    }
    auto recovered = open_db("crash-" + name);
    EXPECT_EQ(integrity(recovered), "ok");
    const auto after_crash = ids(recovered);
    EXPECT_TRUE(after_crash == range(20) || after_crash == range(80)) << after_crash.size() << " rows";
    RecordProperty(std::string(op == FaultOp::Write ? "write" : "fsync") + "_fault_recovers_rows",
                   std::to_string(after_crash.size()));
    close(recovered);

    EXPECT_EQ(ids(db), range(20));  // the connection itself rolled the transaction back
    expect_on_disk(db, 20, name);
  }
}

// The disk fills up: every write fails with SQLITE_FULL, an OperationalError "database or disk is
// full", however often it is retried; what was committed before stays; once space is freed the
// same write goes through (callback form).
TEST_P(FaultInjectionTest, DiskFullIsOperationalErrorAndWritesWorkOnceSpaceIsFreed) {
  auto db = create_db(20);
  vfs().fail_until_cleared(FaultOp::Write, SQLITE_FULL);

  for (int attempt = 0; attempt < 3; ++attempt) {
    auto [error, cursor] = wait_value<Cursor>([&](auto done) {
      db.execute("INSERT INTO t(id, payload) VALUES (21, zeroblob(100000))", {}, std::move(done));
    });
    if (!error) {
      // The row fits in the cache: the COMMIT is what writes.
      error = wait_void([&](auto done) { db.commit(std::move(done)); });
    }
    expect_sqlite_error<OperationalError>(error, SQLITE_FULL, "SQLITE_FULL", "database or disk is full");
    EXPECT_FALSE(wait_void([&](auto done) { db.rollback(std::move(done)); }));
    EXPECT_EQ(ids(db), range(20)) << "attempt " << attempt;
  }
  EXPECT_GE(injected(FaultOp::Write), 3u);
  EXPECT_EQ(integrity(db), "ok");

  vfs().clear(FaultOp::Write);  // space is freed
  auto [error, cursor] = wait_value<Cursor>([&](auto done) {
    db.execute("INSERT INTO t(id, payload) VALUES (21, zeroblob(100000))", {}, std::move(done));
  });
  ASSERT_FALSE(error) << describe(error);
  EXPECT_FALSE(wait_void([&](auto done) { db.commit(std::move(done)); }));
  EXPECT_EQ(ids(db), range(21));
  expect_on_disk(db, 21);
}

// The disk fills up in the middle of an executemany whose rows no longer fit in the page cache
// (so SQLite spills pages to the files before the COMMIT): the executemany fails, SQLite rolls the
// whole implicit transaction back (none of its rows stays, not even in the open connection),
// and the same executemany succeeds once there is room. The rows come from a ParamsSource, which
// is not asked for more rows after the failure (as Python stops consuming the iterator).
TEST_P(FaultInjectionTest, DiskFullDuringExecutemanyRollsAllOfItBack) {
  auto db = create_db(20);
  db.execute_fetchall("PRAGMA cache_size = 10").get();  // pages, the least SQLite keeps

  Fault fault;
  fault.code = SQLITE_FULL;
  fault.skip = 20;  // the first spills succeed
  fault.times = kUntilCleared;
  vfs().arm(FaultOp::Write, fault);
  int next_id = 21;  // the source runs on the worker; read here after the future completed
  auto source = [&next_id]() -> std::optional<Params> {
    if (next_id > 500) return std::nullopt;  // about 70 pages in all
    return Params{next_id++};
  };
  auto error = error_of(db.executemany("INSERT INTO t(id, payload) VALUES (?, randomblob(500))", source));
  expect_sqlite_error<OperationalError>(error, SQLITE_FULL, "SQLITE_FULL", "database or disk is full");
  EXPECT_GE(injected(FaultOp::Write), 1u);
  EXPECT_GT(next_id, 21);
  EXPECT_LE(next_id, 500) << "rows were asked for after the failure";
  EXPECT_FALSE(db.in_transaction());
  vfs().clear();  // in DELETE mode even a read needs the disk now: it rolls the hot journal back
  EXPECT_EQ(ids(db), range(20));
  EXPECT_EQ(integrity(db), "ok");

  auto cursor = insert(db, 21, 500).get();
  EXPECT_EQ(cursor.rowcount(), 480);
  db.commit().get();
  EXPECT_EQ(ids(db), range(500));
  expect_on_disk(db, 500);
}

// executescript runs its own BEGIN ... COMMIT; a write failure at that COMMIT fails the script
// with the I/O error, and the script's transaction is not half applied.
TEST_P(FaultInjectionTest, WriteErrorInExecutescriptCommitLeavesNoHalfTransaction) {
  auto db = create_db(20);
  vfs().fail_until_cleared(FaultOp::Write, SQLITE_IOERR_WRITE, content_file());
  auto [error, cursor] = wait_value<Cursor>([&](auto done) {
    db.executescript(
        "BEGIN;"
        "WITH RECURSIVE n(id) AS (SELECT 21 UNION ALL SELECT id + 1 FROM n WHERE id < 60) "
        "INSERT INTO t(id, payload) SELECT id, zeroblob(500) FROM n;"
        "DELETE FROM t WHERE id <= 5;"
        "COMMIT;",
        std::move(done));
  });
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_WRITE, "SQLITE_IOERR_WRITE", "disk I/O error");
  vfs().clear();
  if (db.in_transaction()) db.rollback().get();
  EXPECT_EQ(ids(db), range(20));
  EXPECT_EQ(integrity(db), "ok");
  expect_on_disk(db, 20);
}

// A lock that cannot be taken because of an I/O error (SQLITE_IOERR_LOCK) fails the statement;
// the next one takes it. The first statement of a fresh connection asks for the shared lock (in
// WAL mode, a connection keeps it for as long as it is open).
TEST_P(FaultInjectionTest, LockErrorIsOperationalErrorThenTheConnectionWorks) {
  auto writer = create_db(20);
  close(writer);
  auto db = open_db();
  vfs().fail_next(FaultOp::Lock, SQLITE_IOERR_LOCK, 1, kMainDb);
  auto [error, rows] = wait_value<std::vector<Row>>(
      [&](auto done) { db.execute_fetchall("SELECT count(*) FROM t", std::move(done)); });
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_LOCK, "SQLITE_IOERR_LOCK", "disk I/O error");
  EXPECT_EQ(injected(FaultOp::Lock), 1u);

  EXPECT_EQ(ids(db), range(20));
  insert(db, 21, 25).get();
  db.commit().get();
  expect_on_disk(db, 25);
}

// In DELETE mode a writer takes the RESERVED lock: refused with an I/O error, the write fails
// while reads, which need only the shared lock, go on. (WAL writers lock the log's shared memory,
// not the database file.)
TEST_F(RollbackJournalFaultTest, ReservedLockErrorFailsWritesNotReads) {
  auto db = create_db(20);
  Fault fault;
  fault.code = SQLITE_IOERR_LOCK;
  fault.files = kMainDb;
  fault.lock_level = SQLITE_LOCK_RESERVED;
  fault.times = kUntilCleared;
  vfs().arm(FaultOp::Lock, fault);
  auto error = error_of(insert(db, 21, 25));
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_LOCK, "SQLITE_IOERR_LOCK", "disk I/O error");
  EXPECT_EQ(ids(db), range(20));
  EXPECT_EQ(ids(db), range(20));
  EXPECT_GE(injected(FaultOp::Lock), 1u);
  db.rollback().get();

  vfs().clear();
  insert(db, 21, 25).get();
  db.commit().get();
  expect_on_disk(db, 25);
}

// In DELETE mode COMMIT needs the EXCLUSIVE lock: refused as busy past the timeout, the COMMIT
// fails with "database is locked" and, unlike after an I/O error, the transaction stays open with
// all its rows (in_transaction() says so), so the COMMIT can be retried. (A WAL commit takes no
// lock on the database file.)
TEST_F(RollbackJournalFaultTest, BusyAtCommitKeepsTheTransactionForARetry) {
  Options options;
  options.timeout = 0.1;
  auto db = create_db(20, "fault.db", options);
  insert(db, 21, 80).get();

  Fault fault;
  fault.code = SQLITE_BUSY;
  fault.files = kMainDb;
  fault.lock_level = SQLITE_LOCK_EXCLUSIVE;
  fault.times = kUntilCleared;
  vfs().arm(FaultOp::Lock, fault);
  auto error = wait_void([&](auto done) { db.commit(std::move(done)); });
  expect_sqlite_error<OperationalError>(error, SQLITE_BUSY, "SQLITE_BUSY", "database is locked");
  EXPECT_GE(injected(FaultOp::Lock), 1u);
  EXPECT_TRUE(db.in_transaction());
  EXPECT_EQ(ids(db), range(80)) << "the open transaction keeps its rows";

  vfs().clear();
  EXPECT_FALSE(wait_void([&](auto done) { db.commit(std::move(done)); }));
  EXPECT_FALSE(db.in_transaction());
  expect_on_disk(db, 80);
}

// A lock refused as busy a few times is retried by the busy handler within the timeout; refused
// for longer than the timeout, the statement fails with "database is locked".
TEST_P(FaultInjectionTest, BusyLockIsRetriedWithinTheTimeoutThenReported) {
  Options options;
  options.timeout = 0.3;
  auto writer = create_db(20);
  close(writer);

  auto db = open_db("fault.db", options);
  vfs().fail_next(FaultOp::Lock, SQLITE_BUSY, 3, kMainDb);
  EXPECT_EQ(ids(db), range(20));
  EXPECT_EQ(injected(FaultOp::Lock), 3u);
  close(db);

  db = open_db("fault.db", options);
  vfs().fail_until_cleared(FaultOp::Lock, SQLITE_BUSY, kMainDb);
  auto error = error_of(db.execute_fetchall("SELECT count(*) FROM t"));
  expect_sqlite_error<OperationalError>(error, SQLITE_BUSY, "SQLITE_BUSY", "database is locked");
  vfs().clear();
  EXPECT_EQ(ids(db), range(20));
  expect_on_disk(db, 20);
}

// A read fails while a cursor iterates (callback form, each()): the iteration ends with the error
// and the cursor, its statement reset as in Python, has no more rows; the connection reads
// everything afterwards.
TEST_P(FaultInjectionTest, ReadErrorWhileIteratingEndsTheIteration) {
  auto writer = create_db(200);
  close(writer);
  Options options;
  options.iter_chunk_size = 4;  // a leaf page holds about 7 rows: the first chunks come from the first
  auto db = open_db("fault.db", options);
  auto cursor = db.execute("SELECT id, payload FROM t ORDER BY id").get();  // the first leaf is read

  vfs().fail_next(FaultOp::Read, SQLITE_IOERR_READ, 1, kMainDb);
  std::vector<std::int64_t> seen;
  bool done = false;
  std::exception_ptr error;
  cursor.each([&](Row row) { seen.push_back(row.get<std::int64_t>(0)); },
              [&](std::exception_ptr e) {
                error = e;
                done = true;
              });
  ASSERT_TRUE(run_until([&] { return done; }));
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_READ, "SQLITE_IOERR_READ", "disk I/O error");
  EXPECT_EQ(injected(FaultOp::Read), 1u);
  ASSERT_FALSE(seen.empty());
  EXPECT_LT(seen.size(), 200u);
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], static_cast<std::int64_t>(i + 1));
  EXPECT_FALSE(cursor.fetchone().get().has_value());

  EXPECT_EQ(ids(db), range(200));
  insert(db, 201, 210).get();
  db.commit().get();
  expect_on_disk(db, 210);
}

// The source cannot be read during a backup: the backup fails with the read error, the target
// keeps what it had, and a second backup copies everything.
TEST_P(FaultInjectionTest, ReadErrorDuringBackupKeepsTheTargetIntact) {
  auto writer = create_db(200);
  close(writer);
  auto target = create_db(5, "copy.db");  // two pages
  auto source = open_db();                // nothing of it cached yet

  Fault fault;
  fault.code = SQLITE_IOERR_READ;
  fault.files = kMainDb;
  fault.min_offset = 4 * kPageSize;  // beyond the target's file: only the source's pages fail
  fault.times = kUntilCleared;
  vfs().arm(FaultOp::Read, fault);
  auto error = error_of(source.backup(target));
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_READ, "SQLITE_IOERR_READ", "disk I/O error");
  EXPECT_GE(injected(FaultOp::Read), 1u);
  vfs().clear();
  EXPECT_EQ(ids(target), range(5));
  EXPECT_EQ(integrity(target), "ok");

  source.backup(target).get();
  EXPECT_EQ(ids(target), range(200));
  close(source);
  expect_on_disk(target, 200, "copy.db");
}

// The target's disk fails during a backup: the backup fails with the write error (callback form);
// the target keeps what it had, and a second backup after the fault copies everything.
TEST_P(FaultInjectionTest, WriteErrorDuringBackupKeepsTheTargetIntact) {
  auto source = create_db(200);
  auto target = create_db(5, "copy.db");

  vfs().fail_until_cleared(FaultOp::Write, SQLITE_IOERR_WRITE, content_file());
  BackupOptions options;
  options.pages = 8;
  auto error = wait_void([&](auto done) { source.backup(target, options, std::move(done)); });
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_WRITE, "SQLITE_IOERR_WRITE", "disk I/O error");
  vfs().clear();
  EXPECT_FALSE(target.in_transaction());
  EXPECT_EQ(ids(target), range(5));
  EXPECT_EQ(integrity(target), "ok");

  EXPECT_FALSE(wait_void([&](auto done) { source.backup(target, options, std::move(done)); }));
  EXPECT_EQ(ids(target), range(200));
  EXPECT_EQ(integrity(target), "ok");
  EXPECT_EQ(ids(source), range(200));
  close(source);
  expect_on_disk(target, 200, "copy.db");
}

// A read fails while iterdump streams the rows of a table: the stream ends with the error, the
// connection is usable, and a second dump has every row.
TEST_P(FaultInjectionTest, ReadErrorDuringIterdumpEndsTheStreamWithTheError) {
  auto writer = create_db(200);
  close(writer);
  auto db = open_db();

  Fault fault;
  fault.code = SQLITE_IOERR_READ;
  fault.files = kMainDb;
  fault.min_offset = 10 * kPageSize;  // schema and the first pages of t load
  vfs().arm(FaultOp::Read, fault);
  std::size_t lines = 0;
  bool done = false;
  std::exception_ptr error;
  db.iterdump([&](std::vector<std::string> chunk) { lines += chunk.size(); },
              [&](std::exception_ptr e) {
                error = e;
                done = true;
              },
              16);
  ASSERT_TRUE(run_until([&] { return done; }));
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_READ, "SQLITE_IOERR_READ", "disk I/O error");
  EXPECT_GT(lines, 2u) << "the fault should hit after the dump started";
  EXPECT_LT(lines, 200u);

  const auto dump = db.iterdump().get();
  std::size_t inserts = 0;
  for (const auto& line : dump) inserts += line.starts_with("INSERT INTO \"t\"") ? 1 : 0;
  EXPECT_EQ(inserts, 200u);
  EXPECT_EQ(dump.back(), "COMMIT;");
  expect_on_disk(db, 200);
}

// A shrinking file cannot be truncated: in DELETE mode VACUUM's COMMIT truncates the database
// file, in WAL mode wal_checkpoint(TRUNCATE) truncates the log. The statement fails with
// SQLITE_IOERR_TRUNCATE and every committed row stays.
TEST_P(FaultInjectionTest, TruncateErrorLosesNothing) {
  auto db = create_db(200);
  db.execute("DELETE FROM t WHERE id > 100").get();
  db.commit().get();

  vfs().fail_until_cleared(FaultOp::Truncate, SQLITE_IOERR_TRUNCATE, wal() ? kWal : kMainDb);
  const std::string shrink = wal() ? "PRAGMA wal_checkpoint(TRUNCATE)" : "VACUUM";
  auto error = error_of(db.execute_fetchall(shrink));
  expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_TRUNCATE, "SQLITE_IOERR_TRUNCATE",
                                        "disk I/O error");
  EXPECT_GE(injected(FaultOp::Truncate), 1u);
  vfs().clear();
  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(ids(db), range(100));
  EXPECT_EQ(integrity(db), "ok");

  db.execute_fetchall(shrink).get();
  EXPECT_EQ(ids(db), range(100));
  expect_on_disk(db, 100);
}

// A connection closed with an uncommitted transaction whose pages already spilled to the files,
// while every write fails: close() succeeds, and the next open finds exactly the committed rows
// (in DELETE mode the hot journal is rolled back then; in WAL mode the log has no commit record
// for them).
TEST_P(FaultInjectionTest, CloseDuringWriteFaultKeepsCommittedRowsOnly) {
  auto db = create_db(20);
  db.execute_fetchall("PRAGMA cache_size = 10").get();
  insert(db, 21, 500).get();  // spills: the files hold uncommitted pages
  ASSERT_TRUE(db.in_transaction());

  vfs().fail_until_cleared(FaultOp::Write, SQLITE_IOERR_WRITE);
  close(db);  // expects no error
  EXPECT_GE(injected(FaultOp::Write), 1u);
  vfs().clear();

  auto again = open_db();
  EXPECT_EQ(ids(again), range(20));
  EXPECT_EQ(integrity(again), "ok");
  expect_on_disk(again, 20);
}

// In WAL mode the last connection's close checkpoints the log into the database file; when that
// write fails, close still succeeds and the log keeps every committed transaction for the next
// open. (In DELETE mode a close with nothing pending writes nothing.)
TEST_F(WalFaultTest, CheckpointFailureAtCloseLosesNothing) {
  auto db = create_db(50);
  vfs().fail_until_cleared(FaultOp::Write, SQLITE_IOERR_WRITE, kMainDb);
  close(db);  // expects no error
  EXPECT_GE(injected(FaultOp::Write), 1u);
  EXPECT_TRUE(std::filesystem::exists(dir_.file("fault.db") + "-wal")) << "the log was not checkpointed";
  vfs().clear();

  auto again = open_db();
  EXPECT_EQ(ids(again), range(50));
  EXPECT_EQ(integrity(again), "ok");
  expect_on_disk(again, 50);
}

// Faults armed from the test thread while the worker runs a pipeline of autocommitted inserts
// (future form): each insert either succeeds or fails with the injected fsync error, and
// afterwards the table holds exactly the inserts that succeeded, in the connection and on disk.
// Under TSan this is also the VFS's thread-safety test.
TEST_P(FaultInjectionTest, FaultsArmedDuringAPipelineFailExactlyTheInsertsTheyHit) {
  Options options;
  options.isolation_level = std::nullopt;  // each insert commits itself
  auto db = create_db(0, "fault.db", std::move(options));

  std::vector<std::pair<int, std::future<std::optional<std::int64_t>>>> pending;
  for (int id = 1; id <= 60; ++id) {
    pending.emplace_back(id, db.execute_insert("INSERT INTO t(id, payload) VALUES (?, x'00')", {id}));
    // Re-arming replaces a fault not met yet; the last one is met by the inserts after it.
    if (id % 7 == 3) vfs().fail_next(FaultOp::Sync, SQLITE_IOERR_FSYNC, 1, content_file());
  }
  std::vector<std::int64_t> committed;
  std::uint64_t failed = 0;
  for (auto& [id, future] : pending) {
    auto error = error_of(future);
    if (!error) {
      committed.push_back(id);
      continue;
    }
    ++failed;
    expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_FSYNC, "SQLITE_IOERR_FSYNC", "disk I/O error");
  }
  vfs().clear();
  EXPECT_GE(failed, 1u);
  // A fault is met by one insert only; in DELETE mode the rollback of a failed COMMIT syncs the
  // restored file too, so a fault armed just then is met by the same insert.
  EXPECT_LE(failed, injected(FaultOp::Sync));
  EXPECT_EQ(ids(db), committed);
  EXPECT_EQ(integrity(db), "ok");
  close(db);
  auto again = open_db();
  EXPECT_EQ(ids(again), committed) << "after reopening";
  close(again);
}

// The awaitable form: co_await throws the I/O error of a failed fsync at the COMMIT, and the
// connection commits once the fault clears.
TEST_P(FaultInjectionTest, AwaitedCommitThrowsTheSyncError) {
  auto db = create_db(10);
  bool done = false;
  auto body = [&]() -> Task {
    co_await db.execute("INSERT INTO t(id, payload) VALUES (11, x'00')", use_awaitable);
    vfs().fail_until_cleared(FaultOp::Sync, SQLITE_IOERR_FSYNC);
    std::exception_ptr error;
    try {
      co_await db.commit(use_awaitable);
    } catch (...) {
      error = std::current_exception();
    }
    expect_sqlite_error<OperationalError>(error, SQLITE_IOERR_FSYNC, "SQLITE_IOERR_FSYNC", "disk I/O error");
    vfs().clear();
    if (db.in_transaction()) co_await db.rollback(use_awaitable);
    co_await db.execute("INSERT INTO t(id, payload) VALUES (11, x'00')", use_awaitable);
    co_await db.commit(use_awaitable);
    done = true;
  };
  g_escaped = nullptr;
  body();
  ASSERT_TRUE(run_until([&] { return done || g_escaped; }));
  ASSERT_FALSE(g_escaped) << describe(g_escaped);
  EXPECT_EQ(ids(db), range(11));
  expect_on_disk(db, 11);
}

INSTANTIATE_TEST_SUITE_P(JournalMode, FaultInjectionTest, ::testing::Values("delete", "wal"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

}  // namespace
}  // namespace uvsqlite::test
