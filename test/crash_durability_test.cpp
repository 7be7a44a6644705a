// A process killed with SIGKILL loses nothing it was told was committed. A child
// (support/crash_writer.cpp) inserts rows in transactions through uvsqlite and reports each
// completed commit() on a pipe; the parent kills it right after a report or at a random moment
// (mid-transaction, mid-commit), then reopens the file: it passes PRAGMA integrity_check, holds
// every reported row, and holds whole transactions only (at most one committed but not yet
// reported). Rollback-journal and WAL modes, future and loop forms, the same file reopened by
// each new child (so each recovers what the last kill left).

#include <poll.h>
#include <sqlite3.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/crash_rows.hpp"
#include "support/test_support.hpp"

#ifndef UVSQLITE_CRASH_WRITER_EXE
#error "UVSQLITE_CRASH_WRITER_EXE must name the crash_writer helper program"
#endif

namespace uvsqlite::test {
namespace {

using namespace std::chrono_literals;
using crash::kRowsPerTransaction;
using Clock = std::chrono::steady_clock;

// Kills per journal mode: half right after a commit report, half at a random moment.
constexpr int kKills = 8;

/// A running crash_writer, its stdout read line by line.
class Writer {
 public:
  Writer(const std::string& path, const std::string& journal_mode, const std::string& form) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      execl(UVSQLITE_CRASH_WRITER_EXE, UVSQLITE_CRASH_WRITER_EXE, path.c_str(), journal_mode.c_str(),
            form.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
    if (pid_ < 0) throw std::runtime_error("fork failed");
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() {
    if (pid_ > 0) kill_now();
    ::close(fd_);
  }

  /// The next line, or nullopt at end of file or when none comes within `timeout`.
  std::optional<std::string> line(std::chrono::milliseconds timeout = 20s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (const auto end = buffer_.find('\n'); end != std::string::npos) {
        std::string out = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return out;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
      if (ready == 0) return std::nullopt;  // nothing more within the timeout
      if (ready < 0) {
        if (errno == EINTR) continue;
        return std::nullopt;
      }
      char chunk[512];
      const ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  /// SIGKILL, then waits for the process. @returns its wait status.
  int kill_now() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

/// The number in a "committed N" or "ready N" line; nullopt for another line.
std::optional<std::int64_t> number_after(const std::string& line, const std::string& word) {
  if (line.rfind(word + " ", 0) != 0) return std::nullopt;
  return std::stoll(line.substr(word.size() + 1));
}

/// What the reopened file holds.
struct Found {
  std::string integrity;
  std::string journal_mode;
  std::int64_t rows = 0;
  std::int64_t last = 0;  // highest id
  bool payloads_right = true;
};

Found reopen(const std::string& path) {
  Found found;
  sqlite3* db = nullptr;
  // Read-write: a hot rollback journal is rolled back (or a WAL recovered) by this open.
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  auto each_row = [&](const char* sql, auto on_row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
      return;
    }
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) on_row(stmt);
    EXPECT_EQ(rc, SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
  };
  auto text = [](sqlite3_stmt* stmt, int i) {
    const auto* p = sqlite3_column_text(stmt, i);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  };
  each_row("PRAGMA integrity_check", [&](sqlite3_stmt* stmt) { found.integrity += text(stmt, 0); });
  each_row("PRAGMA journal_mode", [&](sqlite3_stmt* stmt) { found.journal_mode = text(stmt, 0); });
  each_row("SELECT id, payload FROM t ORDER BY id", [&](sqlite3_stmt* stmt) {
    const std::int64_t id = sqlite3_column_int64(stmt, 0);
    ++found.rows;
    found.last = id;
    if (text(stmt, 1) != crash::payload(id)) found.payloads_right = false;
  });
  sqlite3_close_v2(db);
  return found;
}

struct Figures {
  int kills = 0;
  int unreported = 0;      // kills that fell between a commit and its report
  std::int64_t rows = 0;   // rows checked, summed over the reopenings
  std::int64_t final = 0;  // rows in the file at the end
};

void report(const char* mode, const Figures& figures) {
  ::testing::Test::RecordProperty("kills", figures.kills);
  ::testing::Test::RecordProperty("rows_checked", std::to_string(figures.rows));
  std::printf(
      "[ crash    ] %s: %d kills (%d between a commit and its report), %lld rows checked over the "
      "reopenings, %lld in the file at the end\n",
      mode, figures.kills, figures.unreported, static_cast<long long>(figures.rows),
      static_cast<long long>(figures.final));
}

void kill_repeatedly(const std::string& journal_mode, Figures& figures) {
  TempDir dir;
  const std::string path = dir.file("crash.db");
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::int64_t on_file = 0;  // rows the file held after the last kill
  for (int k = 0; k < kKills; ++k) {
    const bool at_random_moment = k % 2 == 1;
    const std::string form = (k / 2) % 2 == 0 ? "future" : "loop";
    SCOPED_TRACE("kill " + std::to_string(k) + ", " + form + " form, " +
                 (at_random_moment ? "at a random moment" : "right after a commit report"));
    Writer writer(path, journal_mode, form);

    const auto ready = writer.line();
    ASSERT_TRUE(ready) << "the writer never started";
    ASSERT_EQ(number_after(*ready, "ready"), on_file) << *ready;
    std::int64_t reported = on_file;
    const int reports = std::uniform_int_distribution<int>(at_random_moment ? 0 : 1, 5)(rng);
    for (int r = 0; r < reports; ++r) {
      const auto line = writer.line();
      ASSERT_TRUE(line) << "the writer stopped reporting";
      const auto committed = number_after(*line, "committed");
      ASSERT_TRUE(committed) << *line;
      reported = *committed;
    }
    if (at_random_moment) {
      std::this_thread::sleep_for(
          std::chrono::microseconds(std::uniform_int_distribution<int>(0, 20000)(rng)));
    }
    const int status = writer.kill_now();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the writer ended by itself";
    // Reports written before the kill are commits that completed: they count too. The pipe is
    // read to its end (the writer is dead, so that comes at once).
    while (const auto line = writer.line()) {
      const auto committed = number_after(*line, "committed");
      ASSERT_TRUE(committed) << *line;
      reported = *committed;
    }

    const Found found = reopen(path);
    EXPECT_EQ(found.integrity, "ok");
    EXPECT_EQ(found.journal_mode, journal_mode);
    EXPECT_TRUE(found.payloads_right);
    EXPECT_EQ(found.rows, found.last) << "ids are not 1.." << found.last << ": a row is missing";
    EXPECT_GE(found.last, reported) << "a reported commit was lost";
    EXPECT_EQ(found.last % kRowsPerTransaction, 0) << "part of a transaction is in the file";
    EXPECT_LE(found.last, reported + kRowsPerTransaction)
        << "rows beyond the one commit that may be unreported";
    if (found.last > reported) ++figures.unreported;
    ++figures.kills;
    figures.rows += found.rows;
    on_file = found.last;
  }
  figures.final = on_file;
}

TEST(CrashDurabilityTest, RollbackJournalKeepsEveryReportedCommit) {
  Figures figures;
  kill_repeatedly("delete", figures);
  report("rollback journal", figures);
}

TEST(CrashDurabilityTest, WalKeepsEveryReportedCommit) {
  Figures figures;
  kill_repeatedly("wal", figures);
  report("WAL", figures);
}

}  // namespace
}  // namespace uvsqlite::test
