// iterdump() under allocation failures, whole (of a UTF-8 database) and streamed (of a UTF-16
// database, whose text SQLite converts, which allocates, each time the dump reads it): the lines are
// exactly those of a run with no failure, or the dump fails with OperationalError(SQLITE_NOMEM)
// after handing over (streamed) only lines that are right. Every allocation is failed once; from
// every second one on for good (the persistent runs differ little from one N to the next).

#include <algorithm>
#include <filesystem>

#include "oom_support.hpp"

namespace uvsqlite::test::oom {
namespace {

class DumpOomTest : public OomTest {
 protected:
  // A database with a table of each kind that iterdump treats apart: AUTOINCREMENT (so
  // sqlite_sequence, whose integers the dump turns to text), an index, a view and a trigger.
  std::string make_template(const std::string& encoding) {
    const std::string path = fresh("dump-template.db");
    seed(path, 6, encoding);
    Connection db = open(path);
    db.executescript(
          "CREATE TABLE log(id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);"
          "CREATE INDEX t_batch ON t(batch);"
          "CREATE VIEW named AS SELECT id, name FROM t;"
          "CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log(what) VALUES (new.name); END;"
          "INSERT INTO t(id, batch, name) VALUES (1000, 9, 'it''s \"quoted\"');")
        .get();
    close(db);
    return path;
  }

  // Sweeps one dump of a database in `encoding`, whole (iterdump()) or streamed 5 lines at a time.
  void sweep_dump(const char* scenario, const std::string& encoding, bool streamed) {
    const std::string source = make_template(encoding);
    std::vector<std::string> expected;
    {
      Connection db = open(source);
      expected = db.iterdump().get();
      close(db);
    }
    ASSERT_GT(expected.size(), 12u);
    sweep(
        scenario, mode(),
        [&](std::int64_t n) {
          const std::string path = fresh("dump.db");
          std::filesystem::copy_file(source, path);
          Connection db = open(path);
          {
            Failures failures(mode());
            Armed armed(n, mode());
            if (streamed) {
              std::vector<std::string> lines;
              bool done = false;
              std::exception_ptr error;
              db.iterdump(
                  [&](std::vector<std::string> chunk) {
                    lines.insert(lines.end(), chunk.begin(), chunk.end());
                  },
                  [&](std::exception_ptr e) {
                    error = e;
                    done = true;
                  },
                  5);
              ASSERT_TRUE(run_until([&] { return done; }, kHangLimit))
                  << "the streamed iterdump never finished";
              if (failures.check(error, "streamed iterdump")) {
                EXPECT_EQ(lines, expected);
              } else {
                ASSERT_LE(lines.size(), expected.size());
                EXPECT_TRUE(std::equal(lines.begin(), lines.end(), expected.begin()))
                    << "a wrong line was handed over";
              }
            } else {
              auto whole = settle(db.iterdump());
              if (failures.check(whole.error, "iterdump")) {
                EXPECT_EQ(*whole.value, expected);
              }
            }
            close(db);
          }
          EXPECT_EQ(query_text(path, "PRAGMA integrity_check"), "ok");
          expect_no_worker_left();
        },
        mode() == FailMode::Persistent ? 2 : 1);
  }
};

TEST_P(DumpOomTest, WholeDumpIsCompleteOrFails) { sweep_dump("iterdump (UTF-8), close", "UTF-8", false); }

TEST_P(DumpOomTest, StreamedDumpHandsOverOnlyRightLines) {
  sweep_dump("streamed iterdump (UTF-16), close", "UTF-16le", true);
}

INSTANTIATE_TEST_SUITE_P(Modes, DumpOomTest, ::testing::Values(FailMode::Once, FailMode::Persistent),
                         mode_name);

}  // namespace
}  // namespace uvsqlite::test::oom
