// Reads under allocation failures: execute_fetchall, a cursor's fetchone / fetchmany / fetchall,
// and iteration with each() in small chunks. Each either returns exactly the stored rows or fails
// with OperationalError(SQLITE_NOMEM); close() succeeds with cursors still open.

#include "oom_support.hpp"

namespace uvsqlite::test::oom {
namespace {

class ReadOomTest : public OomTest {};

TEST_P(ReadOomTest, FetchesReturnTheStoredRowsOrFail) {
  sweep("execute_fetchall, fetchone, fetchmany, fetchall, each, close", mode(), [&](std::int64_t n) {
    const std::string path = fresh("read.db");
    const std::vector<Record> records = seed(path, 40);
    Options options;
    options.iter_chunk_size = 8;
    Connection db = open(path, options);
    {
      Failures failures(mode());
      Armed armed(n, mode());
      auto all = settle(db.execute_fetchall(kSelect));
      if (failures.check(all.error, "execute_fetchall")) expect_rows(*all.value, records, "execute_fetchall");

      // One cursor read in three ways; after a failure it is left alone (and open, for close()).
      auto cursor = settle(db.execute(kSelect));
      if (failures.check(cursor.error, "execute(SELECT)")) {
        std::vector<Row> rows;
        auto one = settle(cursor.value->fetchone());
        if (failures.check(one.error, "fetchone")) {
          rows.push_back(std::move(one.value->value()));
          auto some = settle(cursor.value->fetchmany(10));
          if (failures.check(some.error, "fetchmany")) {
            rows.insert(rows.end(), some.value->begin(), some.value->end());
            auto rest = settle(cursor.value->fetchall());
            if (failures.check(rest.error, "fetchall")) {
              rows.insert(rows.end(), rest.value->begin(), rest.value->end());
              expect_rows(rows, records, "fetchone + fetchmany + fetchall");
            }
          }
        }
      }

      auto iterated = settle(db.execute(kSelect));
      if (failures.check(iterated.error, "execute(SELECT) to iterate")) {
        const Iterated each = iterate(*iterated.value);
        ASSERT_TRUE(each.finished) << "each() never finished";
        if (failures.check(each.error, "each")) expect_rows(each.rows, records, "each");
      }
      close(db);
    }
    EXPECT_EQ(query_text(path, "PRAGMA integrity_check"), "ok");
    expect_no_worker_left();
  });
}

INSTANTIATE_TEST_SUITE_P(Modes, ReadOomTest, ::testing::Values(FailMode::Once, FailMode::Persistent),
                         mode_name);

}  // namespace
}  // namespace uvsqlite::test::oom
