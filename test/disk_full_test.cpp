// A database that runs out of pages (PRAGMA max_page_count): the write fails with SQLITE_FULL as
// an OperationalError, nothing committed is lost, and the same write succeeds once there is room.
#include <cstdint>
#include <string>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

class DiskFullTest : public LoopTest {};

TEST_F(DiskFullTest, WriteBeyondMaxPageCountFailsThenSucceedsWhenRaised) {
  auto db = open(dir_.file("full.db"));
  db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, payload BLOB)").get();
  for (int i = 0; i < 20; ++i) db.execute("INSERT INTO t(payload) VALUES (randomblob(100))").get();
  db.commit().get();

  const auto pages = db.execute_fetchall("PRAGMA page_count").get().at(0).get<std::int64_t>(0);
  const auto limit = db.execute_fetchall("PRAGMA max_page_count = " + std::to_string(pages))
                         .get()
                         .at(0)
                         .get<std::int64_t>(0);
  ASSERT_EQ(limit, pages);

  // 64 KiB needs many more pages than the database may have now.
  const std::string big_write = "INSERT INTO t(payload) VALUES (zeroblob(65536))";
  auto error = error_of(db.execute(big_write));
  expect_error<OperationalError>(error, "database or disk is full");
  if (auto e = error_as<OperationalError>(error)) {
    EXPECT_EQ(e->sqlite_errorcode() & 0xff, 13);  // SQLITE_FULL
  }
  db.rollback().get();

  EXPECT_EQ(db.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), 20);

  db.execute_fetchall("PRAGMA max_page_count = 1000000").get();
  EXPECT_FALSE(error_of(db.execute(big_write)));
  db.commit().get();
  EXPECT_EQ(db.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), 21);
  EXPECT_EQ(db.execute_fetchall("PRAGMA integrity_check").get().at(0).get<std::string>(0), "ok");
  close(db);

  // What was committed is on disk.
  auto again = open(dir_.file("full.db"));
  EXPECT_EQ(again.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), 21);
  EXPECT_EQ(again.execute_fetchall("PRAGMA integrity_check").get().at(0).get<std::string>(0), "ok");
  close(again);
}

}  // namespace
}  // namespace uvsqlite::test
