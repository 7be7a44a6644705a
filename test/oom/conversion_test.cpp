// Values that SQLite must convert or expand, which allocates, while uvsqlite reads them: the
// text of a UTF-16 database (converted to UTF-8 for every column and function argument), a
// zeroblob result (expanded when read), an integer read as text. Under allocation failures the
// query returns the right values or fails with OperationalError(SQLITE_NOMEM): never a crash,
// never a truncated or empty value.

#include "oom_support.hpp"

namespace uvsqlite::test::oom {
namespace {

class ConversionOomTest : public OomTest {};

TEST_P(ConversionOomTest, ConvertedValuesAreRightOrTheQueryFails) {
  sweep("UTF-16 rows, function arguments, zeroblob", mode(), [&](std::int64_t n) {
    const std::string path = fresh("utf16.db");
    const std::vector<Record> records = seed(path, 20, "UTF-16le");
    Connection db = open(path);
    // A function that hands its argument back: the worker reads it from SQLite first.
    db.create_function("echo", 1, [](std::span<const Value> args) { return args[0]; }).get();
    {
      Failures failures(mode());
      Armed armed(n, mode());
      auto rows = settle(db.execute_fetchall(kSelect));
      if (failures.check(rows.error, "select from a UTF-16 database"))
        expect_rows(*rows.value, records, "UTF-16");

      auto echoed =
          settle(db.execute_fetchall("SELECT echo(id), echo(batch), echo(name), echo(score), echo(payload) "
                                     "FROM t ORDER BY id"));
      if (failures.check(echoed.error, "select through a function")) {
        expect_rows(*echoed.value, records, "function arguments");
      }

      auto blobs = settle(
          db.execute_fetchall("SELECT zeroblob(100), zeroblob(0), CAST(4096 AS TEXT), echo(zeroblob(64))"));
      if (failures.check(blobs.error, "select zeroblob")) {
        ASSERT_EQ(blobs.value->size(), 1u);
        const Row& row = blobs.value->front();
        EXPECT_EQ(row[0], Value(Blob(100)));
        EXPECT_EQ(row[1], Value(Blob()));
        EXPECT_EQ(row[2], Value("4096"));
        EXPECT_EQ(row[3], Value(Blob(64)));
      }
      close(db);
    }
    expect_no_worker_left();
  });
}

INSTANTIATE_TEST_SUITE_P(Modes, ConversionOomTest, ::testing::Values(FailMode::Once, FailMode::Persistent),
                         mode_name);

}  // namespace
}  // namespace uvsqlite::test::oom
