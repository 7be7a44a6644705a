// A whole session under allocation failures, armed from before connect() to after close():
// connect, create the table, insert with parameters and commit, executemany and commit, select,
// iterate, iterdump, back up into a second connection, close both. Each step succeeds or fails
// with OperationalError(SQLITE_NOMEM) (a step whose prerequisite failed is skipped); the files
// hold what was committed. Every allocation of each step is swept on its own by the other
// tests; this one fails every 5th allocation of the whole (about 1,050), which keeps it quick.

#include <algorithm>

#include "oom_support.hpp"

namespace uvsqlite::test::oom {
namespace {

class SessionOomTest : public OomTest {};

// The ids of the rows in `path`, in order, as text (empty when there is no table).
std::string ids_of(const std::string& path) {
  if (query_text(path, "SELECT count(*) FROM sqlite_master WHERE name = 't'") != "1") return {};
  return query_text(path, "SELECT group_concat(id) FROM (SELECT id FROM t ORDER BY id)");
}

TEST_P(SessionOomTest, EveryStepSucceedsOrFailsCleanly) {
  sweep(
      "whole session", mode(),
      [&](std::int64_t n) {
        const std::string path = fresh("session.db");
        const std::string copy = fresh("session-copy.db");
        Ledger ledger;
        bool table = false;
        bool copied = false;
        {
          Failures failures(mode());
          Armed armed(n, mode());
          auto db = settle(connect(&loop_, path));
          if (failures.check(db.error, "connect")) {
            table = failures.check(settle(db.value->execute(kSchema)).error, "CREATE TABLE");
            if (table && write_batch(*db.value, ledger, 1, 1, 3, WriteKind::Execute, failures)) {
              write_batch(*db.value, ledger, 2, 11, 12, WriteKind::ExecuteMany, failures);
            }
            if (table) {
              std::vector<Record> stored;
              for (const auto& batch : ledger.batches) {
                if (batch.fate == Fate::Committed)
                  stored.insert(stored.end(), batch.records.begin(), batch.records.end());
              }
              // A batch whose commit failed may be there or not: compare only when none did.
              const bool known = std::none_of(ledger.batches.begin(), ledger.batches.end(),
                                              [](const Ledger::Batch& b) { return b.fate == Fate::Either; });
              auto rows = settle(db.value->execute_fetchall(kSelect));
              if (failures.check(rows.error, "execute_fetchall") && known)
                expect_rows(*rows.value, stored, "select");

              auto cursor = settle(db.value->execute(kSelect));
              if (failures.check(cursor.error, "execute(SELECT)")) {
                const Iterated each = iterate(*cursor.value);
                ASSERT_TRUE(each.finished) << "each() never finished";
                if (failures.check(each.error, "each") && known) expect_rows(each.rows, stored, "each");
              }
              auto dump = settle(db.value->iterdump());
              if (failures.check(dump.error, "iterdump")) {
                EXPECT_EQ(dump.value->front(), "BEGIN TRANSACTION;");
                EXPECT_EQ(dump.value->back(), "COMMIT;");
              }
            }
            auto target = settle(connect(&loop_, copy));
            if (failures.check(target.error, "connect the backup target")) {
              copied = failures.check(settle(db.value->backup(*target.value)), "backup");
              close(*target.value);
            } else {
              run();
            }
            close(*db.value);
          } else {
            run();  // the failed connection's uv_async_t closes
          }
        }
        verify_file(path, ledger);
        if (copied) {
          EXPECT_EQ(ids_of(copy), ids_of(path));
        }
        if (copied) {
          EXPECT_EQ(query_text(copy, "PRAGMA integrity_check"), "ok");
        }
        expect_no_worker_left();
      },
      5);
}

INSTANTIATE_TEST_SUITE_P(Modes, SessionOomTest, ::testing::Values(FailMode::Once, FailMode::Persistent),
                         mode_name);

}  // namespace
}  // namespace uvsqlite::test::oom
