// The child of the crash-durability test: opens a database through uvsqlite in the given journal
// mode and completion form, then inserts rows in transactions and commits, until it is killed.
// After each commit() completes it writes "committed <last id>" to stdout (the parent's pipe)
// with write(2), so that a report never waits in a buffer the kill would lose.
// Usage: uvsqlite_crash_writer PATH delete|wal future|loop
#include <unistd.h>
#include <uv.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "support/crash_rows.hpp"
#include "uvsqlite/uvsqlite.hpp"

namespace {

using uvsqlite::Connection;
using uvsqlite::test::crash::kInsert;
using uvsqlite::test::crash::kRowsPerTransaction;
using uvsqlite::test::crash::payload;

void report(const std::string& text) {
  const std::string line = text + "\n";
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) std::_Exit(3);  // the parent is gone
    done += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void fail(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    report(std::string("error ") + e.what());
  }
  std::_Exit(2);
}

// Sets the journal mode, creates the table and returns the last id already committed.
std::int64_t prepare(const Connection& db, const std::string& journal_mode) {
  const auto mode = db.execute_fetchall("PRAGMA journal_mode = " + journal_mode).get();
  if (mode.at(0).get<std::string>(0) != journal_mode) {
    report("error journal_mode is " + mode.at(0).get<std::string>(0));
    std::_Exit(2);
  }
  db.execute(uvsqlite::test::crash::kCreate).get();
  return db.execute_fetchall("SELECT coalesce(max(id), 0) FROM t").get().at(0).get<std::int64_t>(0);
}

// The future form: each call waited for in turn.
[[noreturn]] void write_with_futures(const Connection& db, std::int64_t last) {
  for (;;) {
    for (std::int64_t i = 1; i <= kRowsPerTransaction; ++i)
      db.execute(kInsert, {last + i, payload(last + i)}).get();
    db.commit().get();
    last += kRowsPerTransaction;
    report("committed " + std::to_string(last));
  }
}

// The callback form: each completion, on the loop thread, submits the next call.
class LoopWriter {
 public:
  LoopWriter(Connection db, std::int64_t last) : db_(std::move(db)), last_(last) {}
  void insert(std::int64_t i) {
    if (i > kRowsPerTransaction) {
      db_.commit([this](std::exception_ptr error) {
        if (error) fail(error);
        last_ += kRowsPerTransaction;
        report("committed " + std::to_string(last_));
        insert(1);
      });
      return;
    }
    db_.execute(kInsert, {last_ + i, payload(last_ + i)},
                [this, i](std::exception_ptr error, uvsqlite::Cursor) {
                  if (error) fail(error);
                  insert(i + 1);
                });
  }

 private:
  Connection db_;
  std::int64_t last_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s PATH delete|wal future|loop\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const std::string journal_mode = argv[2];
  const bool with_loop = std::string(argv[3]) == "loop";
  try {
    uv_loop_t* loop = with_loop ? uv_default_loop() : nullptr;
    Connection db = with_loop ? uvsqlite::connect(loop, path).get() : uvsqlite::connect(path).get();
    const std::int64_t last = prepare(db, journal_mode);
    report("ready " + std::to_string(last));
    if (!with_loop) write_with_futures(db, last);
    LoopWriter writer(db, last);
    writer.insert(1);
    uv_run(loop, UV_RUN_DEFAULT);
  } catch (...) {
    fail(std::current_exception());
  }
  return 1;  // the loop ran dry: never, while the writer keeps submitting
}
