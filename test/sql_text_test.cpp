// SqlText: the SQL an operation takes, kept inline when short; every way of giving it works.

#include <string>
#include <string_view>
#include <utility>

#include "support/test_support.hpp"

namespace {

using uvsqlite::SqlText;

TEST(SqlText, KeepsTheTextOfEveryLengthAroundTheInlineLimit) {
  for (std::size_t n = 0; n <= SqlText::kInline + 2; ++n) {
    std::string text(n, 'x');
    if (n > 1) text[n / 2] = '\0';  // embedded NUL bytes are kept (and refused later by SQLite)
    EXPECT_EQ(SqlText(text).view(), text) << n;
    EXPECT_EQ(SqlText(std::string_view(text)).view(), text) << n;
    const SqlText copy = SqlText(std::string(text));
    SqlText moved = copy;
    const SqlText target = std::move(moved);
    EXPECT_EQ(copy.view(), text) << n;
    EXPECT_EQ(target.view(), text) << n;
  }
}

TEST(SqlText, ALongStringIsMovedInNotCopied) {
  std::string text(1000, 'y');
  const char* bytes = text.data();
  const SqlText sql(std::move(text));
  EXPECT_EQ(sql.view().data(), bytes);
}

TEST(SqlText, ANullPointerIsTheEmptyText) {
  const char* none = nullptr;
  EXPECT_TRUE(SqlText(none).view().empty());
}

TEST(SqlText, ShortAndLongStatementsRunFromEverySource) {
  auto db = uvsqlite::connect(":memory:").get();
  db.execute("CREATE TABLE t(a)").get();
  const std::string long_insert =
      "INSERT INTO t(a) VALUES (?) /* a comment long enough to keep this statement beyond the "
      "text kept inline */";
  ASSERT_GT(long_insert.size(), SqlText::kInline);
  db.execute(long_insert, {1}).get();
  db.execute(std::string_view(long_insert), {2}).get();
  db.execute(std::string(long_insert), {3}).get();
  db.executemany(long_insert, std::vector<uvsqlite::Params>{{4}, {5}}).get();
  EXPECT_EQ(db.execute_insert(long_insert, {6}).get(), 6);
  const std::string select = "SELECT sum(a) FROM t";
  EXPECT_EQ(db.execute_fetchall(select).get().at(0)[0].get<int>(), 21);
  db.close().get();
}

}  // namespace
