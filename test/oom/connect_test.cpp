// connect() under allocation failures: it opens, or fails with OperationalError(SQLITE_NOMEM)
// and leaves no thread and no loop handle behind; an opened connection's first query (which
// reads the schema) works or fails the same way, and close() always succeeds.

#include "oom_support.hpp"

namespace uvsqlite::test::oom {
namespace {

class ConnectOomTest : public OomTest {
 protected:
  // One run: connect (with or without the loop), count the rows, close.
  void run_once(std::int64_t n, bool with_loop) {
    const std::string path = fresh("connect.db");
    seed(path, 3);
    {
      Failures failures(mode());
      Armed armed(n, mode());
      auto out = settle(with_loop ? connect(&loop_, path) : connect(path));
      if (failures.check(out.error, "connect")) {
        auto rows = settle(out.value->execute_fetchall("SELECT count(*) FROM t"));
        if (failures.check(rows.error, "first query")) {
          EXPECT_EQ(rows.value->at(0).get<int>(0), 3);
        }
        if (with_loop) {
          close(*out.value);
        } else {
          EXPECT_FALSE(settle(out.value->close())) << "close";
        }
      } else if (with_loop) {
        run();  // the failed connection's uv_async_t closes
      }
    }
    expect_no_worker_left();
  }
};

TEST_P(ConnectOomTest, WithLoopOpensOrFailsCleanly) {
  sweep("connect(loop), query, close", mode(), [&](std::int64_t n) { run_once(n, true); });
}

TEST_P(ConnectOomTest, WithoutLoopOpensOrFailsCleanly) {
  sweep("connect(), query, close", mode(), [&](std::int64_t n) { run_once(n, false); });
}

INSTANTIATE_TEST_SUITE_P(Modes, ConnectOomTest, ::testing::Values(FailMode::Once, FailMode::Persistent),
                         mode_name);

}  // namespace
}  // namespace uvsqlite::test::oom
