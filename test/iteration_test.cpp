// Cursor::each(on_row, on_done): every row, in order, on the loop thread, in chunks of
// iter_chunk_size; on_done(nullptr) at the end or on_done(error) for an error mid-stream.
#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

/// The rows 1..n (n may be 0).
std::string rows_query(int n) {
  return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < " + std::to_string(n) +
         ") SELECT x FROM c WHERE x <= " + std::to_string(n);
}

struct Stream {
  std::vector<std::int64_t> rows;
  int done_calls = 0;
  std::size_t rows_at_done = 0;
  std::exception_ptr error;
  bool wrong_thread = false;
};

class IterationTest : public LoopTest {
 protected:
  Connection open_chunked(std::size_t chunk = 64) {
    Options options;
    options.iter_chunk_size = chunk;
    return open(":memory:", options);
  }
  /// Runs cur.each() to its end and returns what it delivered.
  Stream stream(const Cursor& cur) {
    Stream s;
    const auto loop_thread = std::this_thread::get_id();
    cur.each(
        [&s, loop_thread](Row row) {
          if (std::this_thread::get_id() != loop_thread) s.wrong_thread = true;
          s.rows.push_back(row.get<std::int64_t>(0));
        },
        [&s, loop_thread](std::exception_ptr e) {
          if (std::this_thread::get_id() != loop_thread) s.wrong_thread = true;
          ++s.done_calls;
          s.rows_at_done = s.rows.size();
          s.error = e;
        });
    EXPECT_EQ(s.done_calls, 0) << "each() completed inside the call";
    EXPECT_TRUE(s.rows.empty()) << "each() delivered rows inside the call";
    EXPECT_TRUE(run_until([&] { return s.done_calls > 0; }));
    // A little longer: nothing else may arrive (a second on_done would be counted).
    run_until([] { return false; }, std::chrono::milliseconds(20));
    return s;
  }
};

class EachRowCountTest : public IterationTest, public ::testing::WithParamInterface<int> {};

TEST_P(EachRowCountTest, DeliversEveryRowInOrderThenNull) {
  const int n = GetParam();
  auto db = open_chunked(64);
  auto cur = db.execute(rows_query(n)).get();
  const Stream s = stream(cur);
  EXPECT_EQ(s.done_calls, 1);
  EXPECT_FALSE(s.error);
  EXPECT_FALSE(s.wrong_thread);
  EXPECT_EQ(s.rows_at_done, static_cast<std::size_t>(n)) << "on_done ran before the last row";
  std::vector<std::int64_t> expected(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) expected[static_cast<std::size_t>(i)] = i + 1;
  EXPECT_EQ(s.rows, expected);
  close(db);
}

INSTANTIATE_TEST_SUITE_P(Chunk64, EachRowCountTest, ::testing::Values(0, 1, 63, 64, 65, 1000));

TEST_F(IterationTest, ErrorMidStreamReachesOnDone) {
  auto db = open_chunked(64);
  // Rows 1..100 are fine; row 101 fails ("malformed JSON").
  auto cur = db.execute(
                   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200) "
                   "SELECT CASE WHEN x <= 100 THEN x ELSE json('{') END FROM c")
                 .get();
  const Stream s = stream(cur);
  EXPECT_EQ(s.done_calls, 1);
  ASSERT_TRUE(s.error) << "on_done got no error";
  EXPECT_THROW(std::rethrow_exception(s.error), OperationalError);
  // The rows before the error arrive in order: at least the first full chunk, at most the 100.
  EXPECT_GE(s.rows.size(), 64u);
  EXPECT_LE(s.rows.size(), 100u);
  for (std::size_t i = 0; i < s.rows.size(); ++i) {
    if (s.rows[i] != static_cast<std::int64_t>(i + 1)) {
      ADD_FAILURE() << "row " << i << " is " << s.rows[i];
      break;
    }
  }
  // The connection still works.
  EXPECT_EQ(db.execute_fetchall("SELECT 9").get().at(0).get<int>(0), 9);
  close(db);
}

TEST_F(IterationTest, RowsAlreadyFetchedAreNotRepeated) {
  auto db = open_chunked(64);
  auto cur = db.execute(rows_query(100)).get();
  auto first = cur.fetchmany(10).get();
  ASSERT_EQ(first.size(), 10u);
  const Stream s = stream(cur);
  EXPECT_FALSE(s.error);
  ASSERT_EQ(s.rows.size(), 90u);
  EXPECT_EQ(s.rows.front(), 11);
  EXPECT_EQ(s.rows.back(), 100);
  close(db);
}

TEST_F(IterationTest, ThrowsProgrammingErrorAtOnceWithoutALoop) {
  auto db = connect(":memory:").get();
  auto cur = db.execute(rows_query(10)).get();
  bool called = false;
  EXPECT_THROW(cur.each([&](Row) { called = true; }, [&](std::exception_ptr) { called = true; }),
               ProgrammingError);
  EXPECT_FALSE(called);
  // Nothing was consumed.
  EXPECT_EQ(cur.fetchall().get().size(), 10u);
  db.close().get();
}

}  // namespace
}  // namespace uvsqlite::test
