// CREATE TABLE and CREATE INDEX under allocation failures: each statement runs in autocommit,
// so each either succeeds and is in the file, or fails with OperationalError(SQLITE_NOMEM) and
// left nothing behind.

#include "oom_support.hpp"

namespace uvsqlite::test::oom {
namespace {

class SchemaOomTest : public OomTest {};

TEST_P(SchemaOomTest, EachStatementIsInTheFileExactlyWhenItSucceeded) {
  sweep("create table, create index, close", mode(), [&](std::int64_t n) {
    const std::string path = fresh("schema.db");
    Connection db = open(path);
    bool table = false;
    bool index = false;
    {
      Failures failures(mode());
      Armed armed(n, mode());
      table = failures.check(settle(db.execute(kSchema)).error, "CREATE TABLE");
      if (table)
        index = failures.check(settle(db.execute("CREATE INDEX t_batch ON t(batch)")).error, "CREATE INDEX");
      close(db);
    }
    EXPECT_EQ(query_text(path, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(query_text(path, "SELECT count(*) FROM sqlite_master WHERE name = 't'"), table ? "1" : "0");
    EXPECT_EQ(query_text(path, "SELECT count(*) FROM sqlite_master WHERE name = 't_batch'"),
              index ? "1" : "0");
    expect_no_worker_left();
  });
}

INSTANTIATE_TEST_SUITE_P(Modes, SchemaOomTest, ::testing::Values(FailMode::Once, FailMode::Persistent),
                         mode_name);

}  // namespace
}  // namespace uvsqlite::test::oom
