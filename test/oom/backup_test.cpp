// backup() under allocation failures, 4 pages per step of a 3000-row database: it completes and the copy
// holds every row, or it fails with OperationalError(SQLITE_NOMEM) and the target is left as it was (the copy
// commits only at its end); both files stay intact and both connections close.

#include "oom_support.hpp"

namespace uvsqlite::test::oom {
namespace {

class BackupOomTest : public OomTest {};

TEST_P(BackupOomTest, CopyIsCompleteOrTheTargetUntouched) {
  // The source is only read: one for the whole sweep.
  const std::string path = fresh("source.db");
  const std::vector<Record> records = seed(path, 3000);
  sweep("backup (4 pages per step), close both", mode(), [&](std::int64_t n) {
    const std::string copy = fresh("copy.db");
    Connection source = open(path);
    Connection target = open(copy);
    bool copied = false;
    {
      Failures failures(mode());
      Armed armed(n, mode());
      BackupOptions options;
      options.pages = 4;
      copied = failures.check(settle(source.backup(target, options)), "backup");
      close(source);
      close(target);
    }
    EXPECT_EQ(query_text(path, "PRAGMA integrity_check"), "ok");
    if (copied) {
      verify_file(copy, Ledger{{{records, Fate::Committed}}});
    } else {
      EXPECT_EQ(query_text(copy, "PRAGMA integrity_check"), "ok");
      EXPECT_EQ(query_text(copy, "SELECT count(*) FROM sqlite_master"), "0") << "a failed copy left data";
    }
    expect_no_worker_left();
  });
  verify_file(path, Ledger{{{records, Fate::Committed}}});
}

INSTANTIATE_TEST_SUITE_P(Modes, BackupOomTest, ::testing::Values(FailMode::Once, FailMode::Persistent),
                         mode_name);

}  // namespace
}  // namespace uvsqlite::test::oom
