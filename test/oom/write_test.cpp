// Writes under allocation failures: inserts with parameters (execute, executemany,
// execute_insert), commit, rollback and a transaction left open at close. Each call succeeds or
// fails with OperationalError(SQLITE_NOMEM); afterwards the file is intact, holds every row whose
// commit succeeded, no row that was rolled back or never committed, and a batch whose commit
// failed entirely or not at all.

#include "oom_support.hpp"

namespace uvsqlite::test::oom {
namespace {

class WriteOomTest : public OomTest {};

TEST_P(WriteOomTest, CommittedRowsSurviveAndNoOthers) {
  sweep("execute, executemany, execute_insert, commit, open transaction at close", mode(),
        [&](std::int64_t n) {
          const std::string path = fresh("write.db");
          seed(path, 0);
          Connection db = open(path);
          Ledger ledger;
          {
            Failures failures(mode());
            Armed armed(n, mode());
            if (write_batch(db, ledger, 1, 1, 5, WriteKind::Execute, failures) &&
                write_batch(db, ledger, 2, 101, 40, WriteKind::ExecuteMany, failures) &&
                write_batch(db, ledger, 3, 201, 3, WriteKind::ExecuteInsert, failures)) {
              // Never committed: close() must roll it back.
              ledger.batches.push_back({{record(301, 4), record(302, 4)}, Fate::Absent});
              for (const Record& r : ledger.batches.back().records) {
                if (!failures.check(settle(db.execute(kInsert, params_of(r))).error, "uncommitted insert"))
                  break;
              }
            }
            close(db);
          }
          verify_file(path, ledger);
          expect_no_worker_left();
        });
}

INSTANTIATE_TEST_SUITE_P(Modes, WriteOomTest, ::testing::Values(FailMode::Once, FailMode::Persistent),
                         mode_name);

}  // namespace
}  // namespace uvsqlite::test::oom
