// demo.cpp: a libuv program that uses SQLite through uvsqlite's callbacks only, while a 10 ms
// timer keeps ticking. The ticks and the longest gap between two of them show that the loop
// never waits for the database: every query runs on the connection's worker thread.
//
// Usage: uvsqlite_demo [path]
//   Without a path the database is uvsqlite-demo.db in the system temp directory, recreated on
//   every run. A path given here is used as it is (never deleted; ":memory:" works).
//   Exit status: 0 on success, 1 on any error.

#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <uvsqlite/uvsqlite.hpp>

namespace {

constexpr int kRows = 10'000;
constexpr std::uint64_t kTickMs = 10;
const char* const kSensors[] = {"attic", "boiler", "cellar", "garden"};

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

// C++ has no `type(e).__name__`; the DB-API class is what a reader of the output wants to see.
const char* error_class(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const uvsqlite::IntegrityError&) {
    return "IntegrityError";
  } catch (const uvsqlite::OperationalError&) {
    return "OperationalError";
  } catch (const uvsqlite::ProgrammingError&) {
    return "ProgrammingError";
  } catch (const uvsqlite::DataError&) {
    return "DataError";
  } catch (const uvsqlite::InternalError&) {
    return "InternalError";
  } catch (const uvsqlite::NotSupportedError&) {
    return "NotSupportedError";
  } catch (const uvsqlite::DatabaseError&) {
    return "DatabaseError";
  } catch (const uvsqlite::InterfaceError&) {
    return "InterfaceError";
  } catch (const uvsqlite::Error&) {
    return "Error";
  } catch (...) {
    return "exception";
  }
}

std::string describe(const std::exception_ptr& error) {
  std::string text = error_class(error);
  try {
    std::rethrow_exception(error);
  } catch (const uvsqlite::Error& e) {
    if (const std::string name = e.sqlite_errorname(); !name.empty()) text += " (" + name + ")";
    text += std::string(": ") + e.what();
  } catch (const std::exception& e) {
    text += std::string(": ") + e.what();
  } catch (...) {
  }
  return text;
}

// Generated before the loop starts, so that the loop lag measured below is the database's alone.
std::vector<uvsqlite::Params> make_readings() {
  std::mt19937 rng(42);  // fixed seed: the same table on every run
  std::uniform_real_distribution<double> noise(-3.0, 3.0);
  const double base[] = {28.0, 61.0, 12.0, 17.0};
  std::vector<uvsqlite::Params> rows;
  rows.reserve(kRows);
  for (int i = 0; i < kRows; ++i) {
    const int sensor = i % 4;
    const int minute = i / 4;  // one reading per sensor per minute
    char taken_at[32];
    std::snprintf(taken_at, sizeof taken_at, "2024-01-%02dT%02d:%02d:00", 1 + minute / 1440,
                  minute / 60 % 24, minute % 60);
    rows.push_back({kSensors[sensor], base[sensor] + noise(rng), std::string(taken_at)});
  }
  return rows;
}

class Demo {
 public:
  Demo(uv_loop_t* loop, std::string path) : loop_(loop), path_(std::move(path)) {}

  void start() {
    readings_ = make_readings();
    uv_timer_init(loop_, &timer_);
    timer_.data = this;
    uv_update_time(loop_);  // the cached loop time is stale after make_readings()
    started_ = step_ = last_tick_ = uv_hrtime();
    uv_timer_start(&timer_, &Demo::on_tick, kTickMs, kTickMs);
    open();
  }

  [[nodiscard]] int status() const { return status_; }

  void print_summary() const {
    std::printf("timer: %d tick%s in %.1f ms of database work; longest gap between ticks %.1f ms "
                "(period %d ms)\n",
                ticks_, ticks_ == 1 ? "" : "s", ms(finished_ - started_), ms(max_gap_),
                static_cast<int>(kTickMs));
  }

 private:
  static void on_tick(uv_timer_t* timer) {
    auto* self = static_cast<Demo*>(timer->data);
    const std::uint64_t now = uv_hrtime();
    self->max_gap_ = std::max(self->max_gap_, now - self->last_tick_);
    self->last_tick_ = now;
    ++self->ticks_;
  }

  void done(const std::string& what) {
    const std::uint64_t now = uv_hrtime();
    std::printf("%7.1f ms  %s\n", ms(now - step_), what.c_str());
    step_ = now;
  }

  void open() {
    uvsqlite::connect(loop_, path_, {}, [this](std::exception_ptr error, uvsqlite::Connection db) {
      if (error) return fail(error);
      db_ = std::move(db);
      open_ = true;
      // Without this, an exception escaping one of our callbacks would terminate the program
      // instead of taking the error path below.
      db_.set_error_handler([this](std::exception_ptr e) { fail(std::move(e)); });
      done("open " + path_);
      create_table();
    });
  }

  void create_table() {
    // IF NOT EXISTS: a database named on the command line may come from an earlier run.
    db_.execute(
        "CREATE TABLE IF NOT EXISTS readings("
        "id INTEGER PRIMARY KEY, sensor TEXT, value REAL, taken_at TEXT)",
        [this](std::exception_ptr error, uvsqlite::Cursor) {
          if (error) return fail(error);
          done("create table readings");
          insert_readings();
        });
  }

  void insert_readings() {
    // The default isolation level ("", DEFERRED) opens the transaction before the first INSERT,
    // as Python's sqlite3 does, so 10,000 rows cost one commit instead of 10,000.
    db_.executemany("INSERT INTO readings(sensor, value, taken_at) VALUES (?, ?, ?)",
                    std::move(readings_), [this](std::exception_ptr error, uvsqlite::Cursor cursor) {
                      if (error) return fail(error);
                      done("executemany: " + std::to_string(cursor.rowcount()) + " rows inserted" +
                           (db_.in_transaction() ? " in one transaction" : ""));
                      commit([this] { aggregate(); });
                    });
  }

  template <class Next>
  void commit(Next next) {
    db_.commit([this, next](std::exception_ptr error) {
      if (error) return fail(error);
      done("commit");
      next();
    });
  }

  void aggregate() {
    db_.execute_fetchall(
        "SELECT sensor, count(*), avg(value), min(value), max(value) "
        "FROM readings GROUP BY sensor ORDER BY sensor",
        [this](std::exception_ptr error, std::vector<uvsqlite::Row> rows) {
          if (error) return fail(error);
          done("aggregate per sensor:");
          std::printf("%11s%-8s %7s %7s %7s %7s\n", "", "sensor", "count", "avg", "min", "max");
          for (const auto& row : rows) {
            const auto [sensor, count, avg, min, max] =
                row.as<std::string, std::int64_t, double, double, double>();
            std::printf("%11s%-8s %7lld %7.2f %7.2f %7.2f\n", "", sensor.c_str(),
                        static_cast<long long>(count), avg, min, max);
            expected_rows_ += count;
          }
          insert_one();
        });
  }

  void insert_one() {
    db_.execute_insert("INSERT INTO readings(sensor, value, taken_at) VALUES (?, ?, datetime('now'))",
                       {"attic", 27.5}, [this](std::exception_ptr error, std::optional<std::int64_t> rowid) {
                         if (error) return fail(error);
                         if (!rowid) return fail(std::make_exception_ptr(std::runtime_error("no rowid")));
                         ++expected_rows_;
                         done("execute_insert: rowid " + std::to_string(*rowid));
                         insert_duplicate(*rowid);
                       });
  }

  void insert_duplicate(std::int64_t rowid) {
    db_.execute("INSERT INTO readings(id, sensor, value) VALUES (?, 'attic', 0)", {rowid},
                [this](std::exception_ptr error, uvsqlite::Cursor) {
                  try {
                    if (error) std::rethrow_exception(error);
                    return fail(std::make_exception_ptr(std::runtime_error("duplicate id accepted")));
                  } catch (const uvsqlite::IntegrityError&) {
                    done("same id again -> " + describe(error));
                  } catch (...) {
                    return fail(std::current_exception());
                  }
                  // The failed statement leaves the transaction (and the row above) in place.
                  commit([this] { stream(); });
                });
  }

  void stream() {
    db_.execute("SELECT id, sensor, value, taken_at FROM readings", [this](std::exception_ptr error,
                                                                          uvsqlite::Cursor cursor) {
      if (error) return fail(error);
      const std::size_t chunk = cursor.iter_chunk_size();
      // Cursor::each fetches chunk rows per worker hop, so no more than that sits in memory.
      cursor.each([this](const uvsqlite::Row&) { ++streamed_; },
                  [this, chunk](std::exception_ptr e) {
                    if (e) return fail(e);
                    if (streamed_ != expected_rows_) {
                      return fail(std::make_exception_ptr(std::runtime_error(
                          "streamed " + std::to_string(streamed_) + " rows, expected " +
                          std::to_string(expected_rows_))));
                    }
                    done("Cursor::each: " + std::to_string(streamed_) + " rows streamed, " +
                         std::to_string(chunk) + " per worker hop");
                    backup();
                  });
    });
  }

  // An online copy into a second connection, a few pages per step, with a progress bar drawn by
  // the progress callback (which runs on the source connection's worker thread).
  void backup() {
    uvsqlite::connect(loop_, ":memory:", {}, [this](std::exception_ptr error, uvsqlite::Connection copy) {
      if (error) return fail(error);
      copy_ = std::move(copy);
      uvsqlite::BackupOptions options;
      options.pages = 16;
      options.progress = [](int /*status*/, int remaining, int total) {
        // Redrawn in place on a terminal; only the finished bar when the output is a file.
        static const bool terminal = isatty(STDOUT_FILENO) != 0;
        if (!terminal && remaining != 0) return;
        constexpr int kWidth = 30;
        const int filled = total > 0 ? (total - remaining) * kWidth / total : kWidth;
        std::printf("\r           backup [%s%s] %3d%%", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                    std::string(static_cast<std::size_t>(kWidth - filled), '.').c_str(),
                    total > 0 ? (total - remaining) * 100 / total : 100);
        std::fflush(stdout);
      };
      db_.backup(copy_, options, [this](std::exception_ptr e) {
        std::printf("\n");  // ends the progress bar's line
        if (e) return fail(e);
        copy_.execute_fetchall("SELECT count(*) FROM readings",
                               [this](std::exception_ptr e2, std::vector<uvsqlite::Row> rows) {
                                 if (e2) return fail(e2);
                                 done("backup into :memory:, 16 pages a step: " +
                                      std::to_string(rows.at(0).get<std::int64_t>(0)) + " rows in the copy");
                                 copy_.close([this](std::exception_ptr e3) {
                                   copy_ = {};
                                   if (e3) return fail(e3);
                                   close();
                                 });
                               });
      });
    });
  }

  void close() {
    closing_ = true;
    db_.close([this](std::exception_ptr error) {
      if (error) return fail(error);
      done("close");
      finish();
    });
  }

  void fail(std::exception_ptr error) {
    std::fprintf(stderr, "error: %s\n", describe(error).c_str());
    status_ = 1;
    copy_ = {};  // dropped on the loop thread: its loop handle closes as the loop finishes
    if (!open_ || closing_) return finish();
    // Close even after an error: the connection's loop handle must go before uv_loop_close.
    closing_ = true;
    db_.close([this](std::exception_ptr e) {
      if (e) std::fprintf(stderr, "error while closing: %s\n", describe(e).c_str());
      finish();
    });
  }

  void finish() {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_)) != 0) return;
    finished_ = uv_hrtime();
    uv_timer_stop(&timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  }

  uv_loop_t* loop_;
  std::string path_;
  uvsqlite::Connection db_;
  uvsqlite::Connection copy_;
  bool open_ = false;
  bool closing_ = false;
  int status_ = 0;
  std::vector<uvsqlite::Params> readings_;
  std::int64_t expected_rows_ = 0;
  std::int64_t streamed_ = 0;

  uv_timer_t timer_{};
  int ticks_ = 0;
  std::uint64_t started_ = 0, finished_ = 0, step_ = 0, last_tick_ = 0, max_gap_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  if (argc > 1) {
    path = argv[1];
  } else {
    std::error_code ec;
    const auto file = std::filesystem::temp_directory_path(ec) / "uvsqlite-demo.db";
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
      std::filesystem::remove(file.string() + suffix, ec);
    }
    path = file.string();
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  Demo demo(&loop, path);
  demo.start();
  uv_run(&loop, UV_RUN_DEFAULT);

  demo.print_summary();
  const int rc = uv_loop_close(&loop);
  std::printf("uv_loop_close: %d%s\n", rc, rc == 0 ? " (no handle left behind)" : "");
  return demo.status() == 0 && rc == 0 ? 0 : 1;
}
