// Hostile input: NUL bytes in SQL, invalid UTF-8, values over SQLITE_LIMIT_LENGTH, huge parameter
// lists, absurdly deep expressions. Each fails with the right error (never a crash), and the
// connection keeps working afterwards.
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

class HostileInputTest : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    db_ = open();
  }
  void TearDown() override {
    close(db_);
    LoopTest::TearDown();
  }
  void expect_still_works() { EXPECT_EQ(db_.execute_fetchall("SELECT 41 + 1").get().at(0).get<int>(0), 42); }
  void lower_length_limit(int limit) {
    db_.call([limit](sqlite3* d) { sqlite3_limit(d, SQLITE_LIMIT_LENGTH, limit); }).get();
  }
  Connection db_;
};

TEST_F(HostileInputTest, SqlWithEmbeddedNulIsProgrammingError) {
  const std::string sql("SELECT 1;\0 DROP TABLE x", 23);
  ASSERT_EQ(sql.size(), 23u);
  expect_error<ProgrammingError>(error_of(db_.execute(sql)));
  expect_error<ProgrammingError>(error_of(db_.execute_fetchall(sql)));
  expect_still_works();
}

TEST_F(HostileInputTest, InvalidUtf8TextParameterRoundTripsByteForByte) {
  const std::string bad("a\xff\xfe\xc3(\x80z", 7);
  auto rows = db_.execute_fetchall("SELECT ?, typeof(?), CAST(? AS BLOB)", {bad, bad, bad}).get();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].get<std::string>(0), bad);
  EXPECT_EQ(rows[0].get<std::string>(1), "text");
  Blob expected(bad.size());
  for (std::size_t i = 0; i < bad.size(); ++i) expected[i] = static_cast<std::byte>(bad[i]);
  EXPECT_EQ(rows[0].get<Blob>(2), expected);
  expect_still_works();
}

TEST_F(HostileInputTest, TextOverLengthLimitIsDataError) {
  lower_length_limit(1000);
  expect_error<DataError>(error_of(db_.execute("SELECT ?", {std::string(2000, 'x')})));
  expect_still_works();
}

TEST_F(HostileInputTest, BlobOverLengthLimitIsDataError) {
  lower_length_limit(1000);
  expect_error<DataError>(error_of(db_.execute("SELECT ?", {Blob(2000, std::byte{7})})));
  expect_still_works();
}

TEST_F(HostileInputTest, ZeroblobOverLengthLimitIsDataError) {
  lower_length_limit(1000);
  auto error = error_of(db_.execute_fetchall("SELECT zeroblob(2000)"));
  expect_error<DataError>(error);
  if (auto e = error_as<DataError>(error)) {
    EXPECT_EQ(e->sqlite_errorcode(), SQLITE_TOOBIG);
  }
  expect_still_works();
}

std::string values_placeholders(int n) {
  std::string sql = "SELECT count(*), sum(column1) FROM (VALUES (?)";
  for (int i = 1; i < n; ++i) sql += ",(?)";
  return sql + ")";
}

TEST_F(HostileInputTest, FortyThousandParametersWork) {
  constexpr int kN = 40000;
  std::vector<Value> values;
  values.reserve(kN);
  for (int i = 0; i < kN; ++i) values.emplace_back(i);
  auto rows = db_.execute_fetchall(values_placeholders(kN), Params(std::move(values))).get();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].get<std::int64_t>(0), kN);
  EXPECT_EQ(rows[0].get<std::int64_t>(1), std::int64_t{kN} * (kN - 1) / 2);
  expect_still_works();
}

TEST_F(HostileInputTest, MoreValuesThanParametersIsProgrammingError) {
  constexpr int kN = 40000;
  std::vector<Value> values(kN + 1, Value(1));
  expect_error<ProgrammingError>(error_of(db_.execute(values_placeholders(kN), Params(std::move(values)))));
  expect_still_works();
}

TEST_F(HostileInputTest, DeeplyNestedExpressionIsOperationalErrorNotCrash) {
  constexpr int kDepth = 2000;
  const std::string sql = "SELECT " + std::string(kDepth, '(') + "1" + std::string(kDepth, ')');
  auto error = error_of(db_.execute_fetchall(sql));
  expect_error<OperationalError>(error);
  if (auto e = error_as<OperationalError>(error)) {
    const std::string what = e->what();
    EXPECT_TRUE(contains(what, "too large") || contains(what, "stack overflow") || contains(what, "too deep"))
        << what;
  }
  expect_still_works();
}

}  // namespace
}  // namespace uvsqlite::test
