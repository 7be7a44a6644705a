// The comparison program of BENCH.md: every workload through uvsqlite and through SQLite's C API
// called directly on one thread, in one process and one run. Prints one JSON line per workload
// (both figures and their ratio) and a readable table. Targets are ratios, so the noise of a
// shared machine cancels out as far as it can.
//
// Usage: uvsqlite_compare [--quick] [--only W1,W4,...]
//   --quick  small counts, to prove the program works (CI runs it; no thresholds there).

#include <sqlite3.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <uvsqlite/uvsqlite.hpp>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  bool quick = false;
  std::vector<std::string> only;
  int table_rows = 100'000;
  int point_selects = 20'000;
  int insert_many = 100'000;
  int insert_each = 10'000;
  int readers = 4;
  int reader_selects = 5'000;
  int open_close = 1'000;
  int idle_connections = 1'000;
  int stream_rows = 1'000'000;
  double lag_query_seconds = 1.0;
};

struct Result {
  Result(std::string id_, std::string name_, std::string unit_, double uv, double raw_, double target_,
         std::string extra_ = "", bool ratio = true)
      : id(std::move(id_)),
        name(std::move(name_)),
        unit(std::move(unit_)),
        uvsqlite(uv),
        raw(raw_),
        target(target_),
        extra(std::move(extra_)),
        ratio_is_meaningful(ratio) {}
  std::string id, name, unit;
  double uvsqlite = 0, raw = 0;  // higher is better for ops/s; the ratio is uvsqlite / raw
  double target = 0;
  std::string extra;  // further JSON fields, starting with a comma
  bool ratio_is_meaningful = true;
  std::string verdict;
};

std::vector<Result> g_results;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Raw SQLite helpers: the physical limit, one thread, statements prepared once.
struct RawDb {
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(db));
    }
    sqlite3_busy_timeout(db, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  void exec(const char* sql) const {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err != nullptr ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(message);
    }
  }
  [[nodiscard]] sqlite3_stmt* prepare(const char* sql) const {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(db));
    }
    return stmt;
  }
  sqlite3* db = nullptr;
};

using RawRow = std::tuple<std::int64_t, std::string, double>;

RawRow raw_row(sqlite3_stmt* s) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
  return {sqlite3_column_int64(s, 0), std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s, 1))),
          sqlite3_column_double(s, 2)};
}

void create_table(const std::string& path, int rows) {
  RawDb raw(path);
  raw.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  raw.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL)");
  raw.exec("BEGIN");
  sqlite3_stmt* insert = raw.prepare("INSERT INTO t VALUES (?, ?, ?)");
  for (int i = 1; i <= rows; ++i) {
    const std::string name = "name-" + std::to_string(i);
    sqlite3_bind_int64(insert, 1, i);
    sqlite3_bind_text(insert, 2, name.c_str(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    sqlite3_bind_double(insert, 3, i * 0.5);
    sqlite3_step(insert);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  raw.exec("COMMIT");
}

uvsqlite::Options bench_options() {
  uvsqlite::Options options;
  options.timeout = 5.0;
  return options;
}

uvsqlite::Connection open_bench(uv_loop_t* loop, const std::string& path) {
  auto db = uvsqlite::connect(loop, path, bench_options()).get();
  db.execute("PRAGMA synchronous=NORMAL").get();
  return db;
}

std::vector<std::int64_t> random_ids(int n, int max, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int64_t> pick(1, max);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
  for (auto& id : ids) id = pick(rng);
  return ids;
}

// Runs the loop until `done` is set.
void run_until(uv_loop_t* loop, const bool& done) {
  while (!done) uv_run(loop, UV_RUN_ONCE);
}

// ---------------------------------------------------------------------------------------------

void w1_point_select(const Config& cfg, const std::string& path) {
  const auto ids = random_ids(cfg.point_selects, cfg.table_rows, 1);
  const char* sql = "SELECT id,name,value FROM t WHERE id=?";

  // Raw: one prepared statement, bind / step / reset.
  double raw_ops = 0, raw_p50 = 0, raw_p99 = 0;
  {
    RawDb raw(path);
    sqlite3_stmt* stmt = raw.prepare(sql);
    std::vector<double> lat;
    lat.reserve(ids.size());
    const auto t0 = Clock::now();
    for (auto id : ids) {
      const auto s = Clock::now();
      sqlite3_bind_int64(stmt, 1, id);
      if (sqlite3_step(stmt) == SQLITE_ROW) (void)raw_row(stmt);
      sqlite3_reset(stmt);
      lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
    }
    raw_ops = static_cast<double>(ids.size()) / seconds_since(t0);
    raw_p50 = percentile(lat, 0.5);
    raw_p99 = percentile(lat, 0.99);
    sqlite3_finalize(stmt);
  }

  // uvsqlite, callback form on a loop: each select issued from the previous one's callback.
  uv_loop_t loop;
  uv_loop_init(&loop);
  double cb_ops = 0, cb_p50 = 0, cb_p99 = 0, fut_ops = 0, fut_p50 = 0, fut_p99 = 0;
  {
    auto db = open_bench(&loop, path);
    std::vector<double> lat;
    lat.reserve(ids.size());
    std::size_t next = 0;
    bool done = false;
    Clock::time_point sent;
    std::function<void()> issue = [&] {
      sent = Clock::now();
      db.execute_fetchall(sql, {ids[next]}, [&](std::exception_ptr e, std::vector<uvsqlite::Row>) {
        if (e) std::rethrow_exception(e);
        lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
        if (++next == ids.size()) {
          done = true;
        } else {
          issue();
        }
      });
    };
    const auto t0 = Clock::now();
    issue();
    run_until(&loop, done);
    cb_ops = static_cast<double>(ids.size()) / seconds_since(t0);
    cb_p50 = percentile(lat, 0.5);
    cb_p99 = percentile(lat, 0.99);

    // The future form from a plain thread (no loop involved in waiting).
    std::thread([&] {
      std::vector<double> flat;
      flat.reserve(ids.size());
      const auto f0 = Clock::now();
      for (auto id : ids) {
        const auto s = Clock::now();
        (void)db.execute_fetchall(sql, {id}).get();
        flat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
      }
      fut_ops = static_cast<double>(ids.size()) / seconds_since(f0);
      fut_p50 = percentile(flat, 0.5);
      fut_p99 = percentile(flat, 0.99);
    }).join();
    bool closed = false;
    db.close([&](std::exception_ptr) { closed = true; });
    run_until(&loop, closed);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);

  char extra[512];
  std::snprintf(
      extra, sizeof extra,
      ",\"p50_us\":%.2f,\"p99_us\":%.2f,\"raw_p50_us\":%.2f,\"raw_p99_us\":%.2f,\"p99_target_us\":30", cb_p50,
      cb_p99, raw_p50, raw_p99);
  g_results.push_back({"W1", "point_select (callback)", "ops/s", cb_ops, raw_ops, 0.5, extra});
  std::snprintf(extra, sizeof extra, ",\"p50_us\":%.2f,\"p99_us\":%.2f", fut_p50, fut_p99);
  g_results.push_back({"W1f", "point_select (future, plain thread)", "ops/s", fut_ops, raw_ops, 0.5, extra});
}

// Raw SQLite: `n` rows inserted with one reused statement in one transaction, row i named
// name_of(i) (a std::string, or a reference to one made before the clock starts); rows per second.
template <class NameOf>
double raw_insert_rate(const std::string& path, int n, NameOf&& name_of) {
  create_table(path, 0);
  RawDb raw(path);
  raw.exec("PRAGMA synchronous=NORMAL");
  const auto t0 = Clock::now();
  raw.exec("BEGIN");
  sqlite3_stmt* insert = raw.prepare("INSERT INTO t(name, value) VALUES (?, ?)");
  for (int i = 0; i < n; ++i) {
    const std::string& name = name_of(i);
    sqlite3_bind_text(insert, 1, name.c_str(), static_cast<int>(name.size()), SQLITE_STATIC);
    sqlite3_bind_double(insert, 2, i * 0.5);
    sqlite3_step(insert);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  raw.exec("COMMIT");
  return n / seconds_since(t0);
}

// The same, each name made inside the timed loop, as a caller making rows one by one does.
double raw_insert_rate(const std::string& path, int n) {
  return raw_insert_rate(path, n, [](int i) { return "name-" + std::to_string(i); });
}

void w2_insert_many(const Config& cfg, const std::string& dir) {
  const int n = cfg.insert_many;
  // The vector form: both sides start from the rows already made (raw from a vector of the
  // names, uvsqlite from the vector of Params it is handed), since the workload times the
  // executemany and the commit. Freeing the Params is uvsqlite's work, inside the timed region.
  double uv_ops = 0;
  double raw_ops = 0;
  {
    std::vector<std::string> names;
    names.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) names.push_back("name-" + std::to_string(i));
    raw_ops = raw_insert_rate(dir + "/w2-raw.db", n, [&names](int i) -> const std::string& {
      return names[static_cast<std::size_t>(i)];
    });
  }
  {
    const std::string path = dir + "/w2-uv.db";
    create_table(path, 0);
    auto db = open_bench(nullptr, path);
    std::vector<uvsqlite::Params> rows;
    rows.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) rows.push_back({"name-" + std::to_string(i), i * 0.5});
    const auto t0 = Clock::now();
    db.executemany("INSERT INTO t(name, value) VALUES (?, ?)", std::move(rows)).get();
    db.commit().get();
    uv_ops = n / seconds_since(t0);
    db.close().get();
  }
  // The same rows made one at a time on the worker (a ParamsSource, as Python's executemany
  // consumes a generator on aiosqlite's thread): no sequence is built in memory first. Against
  // raw SQLite making each name inside its loop too.
  const double raw_gen_ops = raw_insert_rate(dir + "/w2g-raw.db", n);
  double gen_ops = 0;
  {
    const std::string path = dir + "/w2g-uv.db";
    create_table(path, 0);
    auto db = open_bench(nullptr, path);
    const auto t0 = Clock::now();
    int i = 0;
    db.executemany("INSERT INTO t(name, value) VALUES (?, ?)", [&i, n]() -> std::optional<uvsqlite::Params> {
        if (i == n) return std::nullopt;
        const int k = i++;
        return uvsqlite::Params{"name-" + std::to_string(k), k * 0.5};
      }).get();
    db.commit().get();
    gen_ops = n / seconds_since(t0);
    db.close().get();
  }
  g_results.push_back(
      {"W2", "insert_many (executemany of a vector + commit)", "rows/s", uv_ops, raw_ops, 0.9, ""});
  g_results.push_back(
      {"W2g", "insert_many (executemany of a generator + commit)", "rows/s", gen_ops, raw_gen_ops, 0.9, ""});
}

void w3_insert_each(const Config& cfg, const std::string& dir) {
  const int n = cfg.insert_each;
  double each_ops = 0, pipe_ops = 0;
  const double raw_ops = raw_insert_rate(dir + "/w3-raw.db", n);
  uv_loop_t loop;
  uv_loop_init(&loop);
  for (int pipelined = 0; pipelined < 2; ++pipelined) {
    const std::string path = dir + (pipelined != 0 ? "/w3p-uv.db" : "/w3-uv.db");
    create_table(path, 0);
    auto db = open_bench(&loop, path);
    const auto t0 = Clock::now();
    bool done = false;
    int completed = 0;
    std::function<void(int)> insert = [&](int i) {
      db.execute_insert("INSERT INTO t(name, value) VALUES (?, ?)", {"name-" + std::to_string(i), i * 0.5},
                        [&, i](std::exception_ptr e, std::optional<std::int64_t>) {
                          if (e) std::rethrow_exception(e);
                          ++completed;
                          if (pipelined == 0 && i + 1 < n) insert(i + 1);
                          if (completed == n) done = true;
                        });
    };
    if (pipelined != 0) {
      for (int i = 0; i < n; ++i) insert(i);
    } else {
      insert(0);
    }
    run_until(&loop, done);
    db.commit().get();
    (pipelined != 0 ? pipe_ops : each_ops) = n / seconds_since(t0);
    bool closed = false;
    db.close([&](std::exception_ptr) { closed = true; });
    run_until(&loop, closed);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  g_results.push_back({"W3", "insert_each (awaited one by one)", "rows/s", each_ops, raw_ops, 0.25, ""});
  g_results.push_back({"W3p", "insert_pipelined (all submitted)", "rows/s", pipe_ops, raw_ops, 0.7, ""});
}

void w4_scan(const Config& cfg, const std::string& path) {
  double raw_rps = 0, all_rps = 0, iter_rps = 0;
  const auto rows = static_cast<double>(cfg.table_rows);
  {
    RawDb raw(path);
    sqlite3_stmt* stmt = raw.prepare("SELECT * FROM t");
    const auto t0 = Clock::now();
    std::vector<RawRow> out;
    while (sqlite3_step(stmt) == SQLITE_ROW) out.push_back(raw_row(stmt));
    raw_rps = rows / seconds_since(t0);
    sqlite3_finalize(stmt);
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    auto db = open_bench(&loop, path);
    {
      const auto t0 = Clock::now();
      auto all = db.execute("SELECT * FROM t").get().fetchall().get();
      all_rps = rows / seconds_since(t0);
    }
    {
      bool done = false;
      std::size_t seen = 0;
      const auto t0 = Clock::now();
      db.execute("SELECT * FROM t", [&](std::exception_ptr e, uvsqlite::Cursor cursor) {
        if (e) std::rethrow_exception(e);
        cursor.each([&](uvsqlite::Row) { ++seen; },
                    [&](std::exception_ptr e2) {
                      if (e2) std::rethrow_exception(e2);
                      done = true;
                    });
      });
      run_until(&loop, done);
      iter_rps = rows / seconds_since(t0);
    }
    bool closed = false;
    db.close([&](std::exception_ptr) { closed = true; });
    run_until(&loop, closed);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  g_results.push_back({"W4", "scan fetchall", "rows/s", all_rps, raw_rps, 0.7, ""});
  g_results.push_back({"W4i", "scan iteration (64 a hop)", "rows/s", iter_rps, raw_rps, 0.6, ""});
}

void w5_concurrent_readers(const Config& cfg, const std::string& path) {
  const char* sql = "SELECT id,name,value FROM t WHERE id=?";
  const int per = cfg.reader_selects;
  const int k = cfg.readers;
  double raw_ops = 0, uv_ops = 0;
  // Reader r's selects on a raw connection of its own, calling after_each() after each one.
  auto raw_reader = [&](int r, const auto& after_each) {
    RawDb raw(path);
    sqlite3_stmt* stmt = raw.prepare(sql);
    for (auto id : random_ids(per, cfg.table_rows, 100 + static_cast<unsigned>(r))) {
      sqlite3_bind_int64(stmt, 1, id);
      if (sqlite3_step(stmt) == SQLITE_ROW) (void)raw_row(stmt);
      sqlite3_reset(stmt);
      after_each();
    }
    sqlite3_finalize(stmt);
  };
  {
    std::vector<std::thread> threads;
    const auto t0 = Clock::now();
    for (int r = 0; r < k; ++r) {
      threads.emplace_back([&, r] { raw_reader(r, [] {}); });
    }
    for (auto& t : threads) t.join();
    raw_ops = k * per / seconds_since(t0);
  }
  // The floor of the execution model for this workload: the same selects on k raw threads (the
  // workers), each followed by a round trip with one more thread (the loop's role). k + 1 threads
  // share the machine's CPUs. Two ways to wait, the better one counts: std::atomic wait/notify
  // (a brief spin, then a futex) and yielding spins.
  auto handoff_floor = [&](bool spin) {
    std::atomic<int> pending{0};  // requests not yet answered
    std::atomic<bool> stop{false};
    std::vector<std::atomic<int>> turn(static_cast<std::size_t>(k));  // 1 asked, 2 answered
    std::thread loop_role([&] {
      while (!stop.load()) {
        if (pending.load() == 0) {
          if (spin) {
            std::this_thread::yield();
          } else {
            pending.wait(0);
          }
          continue;
        }
        for (auto& t : turn) {
          int asked = 1;
          if (t.compare_exchange_strong(asked, 2)) {
            if (!spin) t.notify_one();
            pending.fetch_sub(1);
          }
        }
      }
    });
    std::vector<std::thread> threads;
    const auto t0 = Clock::now();
    for (int r = 0; r < k; ++r) {
      threads.emplace_back([&, r] {
        auto& mine = turn[static_cast<std::size_t>(r)];
        raw_reader(r, [&] {
          mine.store(1);
          pending.fetch_add(1);
          if (spin) {
            while (mine.load() == 1) std::this_thread::yield();
          } else {
            pending.notify_one();
            mine.wait(1);
          }
        });
      });
    }
    for (auto& t : threads) t.join();
    const double ops = k * per / seconds_since(t0);
    stop.store(true);
    pending.fetch_add(1);
    pending.notify_one();
    loop_role.join();
    return ops;
  };
  const double futex_floor_ops = handoff_floor(false);
  const double spin_floor_ops = handoff_floor(true);
  const double floor_ops = std::max(futex_floor_ops, spin_floor_ops);
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    std::vector<uvsqlite::Connection> dbs;
    std::vector<std::vector<std::int64_t>> ids;
    for (int r = 0; r < k; ++r) {
      dbs.push_back(open_bench(&loop, path));
      ids.push_back(random_ids(per, cfg.table_rows, 100 + static_cast<unsigned>(r)));
    }
    int finished = 0;
    bool done = false;
    std::vector<std::size_t> next(static_cast<std::size_t>(k), 0);
    std::function<void(int)> issue = [&](int r) {
      const auto ri = static_cast<std::size_t>(r);
      dbs[ri].execute_fetchall(sql, {ids[ri][next[ri]]},
                               [&, r, ri](std::exception_ptr e, std::vector<uvsqlite::Row>) {
                                 if (e) std::rethrow_exception(e);
                                 if (++next[ri] == ids[ri].size()) {
                                   if (++finished == k) done = true;
                                 } else {
                                   issue(r);
                                 }
                               });
    };
    const auto t0 = Clock::now();
    for (int r = 0; r < k; ++r) issue(r);
    run_until(&loop, done);
    uv_ops = k * per / seconds_since(t0);
    int closed = 0;
    for (auto& db : dbs) db.close([&](std::exception_ptr) { ++closed; });
    bool all_closed = false;
    while (closed < k) uv_run(&loop, UV_RUN_ONCE);
    (void)all_closed;
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  char extra[256];
  std::snprintf(extra, sizeof extra,
                ",\"handoff_floor_ops\":%.1f,\"handoff_floor_ratio\":%.3f,\"futex_floor_ops\":%.1f,"
                "\"spin_floor_ops\":%.1f",
                floor_ops, raw_ops > 0 ? floor_ops / raw_ops : 0, futex_floor_ops, spin_floor_ops);
  g_results.push_back({"W5", "concurrent_readers (4 connections)", "ops/s", uv_ops, raw_ops, 0.8, extra});
}

// Runs a 1 ms repeating timer on `loop` until `done`, recording how late each tick is.
std::vector<double> timer_lags(uv_loop_t* loop, const bool& done) {
  struct Timer {
    uv_timer_t timer{};
    std::uint64_t last = 0;
    std::vector<double> lags;
  } t;
  uv_timer_init(loop, &t.timer);
  t.timer.data = &t;
  t.last = uv_hrtime();
  uv_timer_start(
      &t.timer,
      [](uv_timer_t* handle) {
        auto* self = static_cast<Timer*>(handle->data);
        const std::uint64_t now = uv_hrtime();
        // Lag: how late this tick is against its 1 ms period.
        self->lags.push_back(std::max(0.0, static_cast<double>(now - self->last) / 1e6 - 1.0));
        self->last = now;
      },
      1, 1);
  run_until(loop, done);
  uv_timer_stop(&t.timer);
  uv_close(reinterpret_cast<uv_handle_t*>(&t.timer), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return std::move(t.lags);
}

void w6_loop_lag(const Config& cfg, const std::string& path) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<double> lags;
  std::vector<double> raw_lags;
  double query_seconds = 0;
  {
    auto db = open_bench(&loop, path);
    // A recursive count sized to run about cfg.lag_query_seconds on this machine.
    const auto probe0 = Clock::now();
    db.execute_fetchall(
          "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200000) "
          "SELECT count(*) FROM c")
        .get();
    const double per_row = seconds_since(probe0) / 200000.0;
    const auto n = static_cast<std::int64_t>(cfg.lag_query_seconds / std::max(per_row, 1e-9));
    const std::string sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < " +
                            std::to_string(n) + ") SELECT count(*) FROM c";

    // The machine's own figure: the same timer while the same query runs through the C API on a
    // plain thread (what a loop suffers from a busy CPU and the scheduler alone).
    {
      std::atomic<bool> finished{false};
      bool done = false;
      std::thread worker([&] {
        RawDb raw(path);
        sqlite3_stmt* stmt = raw.prepare(sql.c_str());
        while (sqlite3_step(stmt) == SQLITE_ROW) {
        }
        sqlite3_finalize(stmt);
        finished.store(true);
      });
      // A second timer notices the end (the loop needs no other wake-up for that).
      uv_timer_t poll{};
      uv_timer_init(&loop, &poll);
      struct Poll {
        std::atomic<bool>* finished;
        bool* done;
      } state{&finished, &done};
      poll.data = &state;
      uv_timer_start(
          &poll,
          [](uv_timer_t* h) {
            auto* st = static_cast<Poll*>(h->data);
            if (st->finished->load()) *st->done = true;
          },
          1, 1);
      raw_lags = timer_lags(&loop, done);
      worker.join();
      uv_timer_stop(&poll);
      uv_close(reinterpret_cast<uv_handle_t*>(&poll), nullptr);
      uv_run(&loop, UV_RUN_NOWAIT);
    }

    bool done = false;
    const auto q0 = Clock::now();
    db.execute_fetchall(sql, [&](std::exception_ptr e, std::vector<uvsqlite::Row>) {
      if (e) std::rethrow_exception(e);
      done = true;
    });
    lags = timer_lags(&loop, done);
    query_seconds = seconds_since(q0);
    bool closed = false;
    db.close([&](std::exception_ptr) { closed = true; });
    run_until(&loop, closed);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  const double max_lag = lags.empty() ? 0 : *std::max_element(lags.begin(), lags.end());
  const double raw_max = raw_lags.empty() ? 0 : *std::max_element(raw_lags.begin(), raw_lags.end());
  char extra[384];
  std::snprintf(
      extra, sizeof extra,
      ",\"ticks\":%zu,\"query_s\":%.3f,\"max_lag_ms\":%.3f,\"p99_lag_ms\":%.3f,\"raw_max_lag_ms\":%.3f,"
      "\"raw_p99_lag_ms\":%.3f,\"max_target_ms\":2,\"p99_target_ms\":0.5",
      lags.size(), query_seconds, max_lag, percentile(lags, 0.99), raw_max, percentile(raw_lags, 0.99));
  Result r{"W6", "loop_lag during a long query", "ms", max_lag, 2.0, 0, extra, false};
  r.verdict = max_lag <= 2.0 && percentile(lags, 0.99) <= 0.5 ? "met" : "NOT met";
  g_results.push_back(r);
}

void w7_open_close(const Config& cfg, const std::string& path) {
  const int n = cfg.open_close;
  // Three ways, taken in turns in blocks of kBlock cycles, so that each meets the same machine
  // (the scheduler's placement of new threads drifts over tens of milliseconds): raw open +
  // close on this thread; the floor of a thread per connection (the same open + close on a fresh
  // thread, created and joined each time); uvsqlite's connect + close, callback form.
  constexpr int kBlock = 50;
  double raw_s = 0, floor_s = 0, uv_s = 0;
  struct Arg {
    const std::string* path;
  } arg{&path};
  const auto open_close = [](const std::string& p) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    sqlite3_close_v2(db);
  };
  uv_loop_t loop;
  uv_loop_init(&loop);
  for (int done_cycles = 0; done_cycles < n; done_cycles += kBlock) {
    const int block = std::min(kBlock, n - done_cycles);
    auto t0 = Clock::now();
    for (int i = 0; i < block; ++i) open_close(path);
    raw_s += seconds_since(t0);

    t0 = Clock::now();
    for (int i = 0; i < block; ++i) {
      uv_thread_t thread;
      uv_thread_create(
          &thread,
          [](void* p) {
            sqlite3* db = nullptr;
            sqlite3_open_v2(static_cast<Arg*>(p)->path->c_str(), &db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
            sqlite3_close_v2(db);
          },
          &arg);
      uv_thread_join(&thread);
    }
    floor_s += seconds_since(t0);

    int remaining = block;
    bool done = false;
    std::function<void()> cycle = [&] {
      uvsqlite::connect(&loop, path, bench_options(), [&](std::exception_ptr e, uvsqlite::Connection db) {
        if (e) std::rethrow_exception(e);
        db.close([&](std::exception_ptr e2) {
          if (e2) std::rethrow_exception(e2);
          if (--remaining == 0) {
            done = true;
          } else {
            cycle();
          }
        });
      });
    };
    t0 = Clock::now();
    cycle();
    run_until(&loop, done);
    uv_s += seconds_since(t0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  const double raw_ops = n / raw_s;
  const double floor_ops = n / floor_s;
  const double uv_ops = n / uv_s;
  char extra[160];
  std::snprintf(extra, sizeof extra, ",\"thread_floor_ops\":%.1f,\"thread_floor_ratio\":%.3f", floor_ops,
                raw_ops > 0 ? floor_ops / raw_ops : 0);
  g_results.push_back({"W7", "open_close (connect + close)", "ops/s", uv_ops, raw_ops, 0.5, extra});
}

void m1_idle_connections(const Config& cfg, const std::string& path) {
  const std::size_t before = rss_bytes();
  std::vector<uvsqlite::Connection> dbs;
  dbs.reserve(static_cast<std::size_t>(cfg.idle_connections));
  std::vector<std::future<uvsqlite::Connection>> pending;
  for (int i = 0; i < cfg.idle_connections; ++i) pending.push_back(uvsqlite::connect(path, bench_options()));
  for (auto& p : pending) dbs.push_back(p.get());
  // Touch each connection once, so each has read the schema as an idle app connection would.
  std::vector<std::future<std::vector<uvsqlite::Row>>> touched;
  for (auto& db : dbs) touched.push_back(db.execute_fetchall("SELECT 1"));
  for (auto& t : touched) t.get();
  const std::size_t after = rss_bytes();
  for (auto& db : dbs) db.close();
  dbs.clear();
  const double mib = static_cast<double>(after - std::min(after, before)) / (1024.0 * 1024.0);
  const double scaled = mib * 1000.0 / cfg.idle_connections;
  char extra[128];
  std::snprintf(extra, sizeof extra, ",\"connections\":%d,\"per_1000_mib\":%.1f,\"target_mib\":64",
                cfg.idle_connections, scaled);
  Result r{"M1", "RSS of idle connections", "MiB", mib, 64, 0, extra, false};
  r.verdict = scaled <= 64 ? "met" : "NOT met";
  g_results.push_back(r);
}

void m2_streaming(const Config& cfg, const std::string& dir) {
  const std::string path = dir + "/m2.db";
  create_table(path, cfg.stream_rows);
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::size_t peak = 0;
  const std::size_t before = rss_bytes();
  std::size_t seen = 0;
  {
    auto db = open_bench(&loop, path);
    bool done = false;
    db.execute("SELECT * FROM t", [&](std::exception_ptr e, uvsqlite::Cursor cursor) {
      if (e) std::rethrow_exception(e);
      cursor.each(
          [&](uvsqlite::Row) {
            if (++seen % 4096 == 0) peak = std::max(peak, rss_bytes());
          },
          [&](std::exception_ptr e2) {
            if (e2) std::rethrow_exception(e2);
            done = true;
          });
    });
    run_until(&loop, done);
    peak = std::max(peak, rss_bytes());
    bool closed = false;
    db.close([&](std::exception_ptr) { closed = true; });
    run_until(&loop, closed);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  const double mib = static_cast<double>(peak - std::min(peak, before)) / (1024.0 * 1024.0);
  char extra[128];
  std::snprintf(extra, sizeof extra, ",\"rows\":%zu,\"target_mib\":16", seen);
  Result r{"M2", "peak RSS growth, streaming scan", "MiB", mib, 16, 0, extra, false};
  r.verdict = mib <= 16 ? "met" : "NOT met";
  g_results.push_back(r);
}

bool wanted(const Config& cfg, const char* id) {
  return cfg.only.empty() || std::find(cfg.only.begin(), cfg.only.end(), id) != cfg.only.end();
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      cfg.quick = true;
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      std::stringstream list(argv[++i]);
      for (std::string id; std::getline(list, id, ',');) cfg.only.push_back(id);
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--only W1,W2,...]\n", argv[0]);
      return 2;
    }
  }
  if (cfg.quick) {
    cfg.table_rows = 5'000;
    cfg.point_selects = 1'000;
    cfg.insert_many = 5'000;
    cfg.insert_each = 500;
    cfg.reader_selects = 250;
    cfg.open_close = 50;
    cfg.idle_connections = 50;
    cfg.stream_rows = 20'000;
    cfg.lag_query_seconds = 0.1;
  }

  const auto dir = std::filesystem::temp_directory_path() / ("uvsqlite-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "bench.db").string();
  create_table(path, cfg.table_rows);

  if (wanted(cfg, "W1")) w1_point_select(cfg, path);
  if (wanted(cfg, "W2")) w2_insert_many(cfg, dir.string());
  if (wanted(cfg, "W3")) w3_insert_each(cfg, dir.string());
  if (wanted(cfg, "W4")) w4_scan(cfg, path);
  if (wanted(cfg, "W5")) w5_concurrent_readers(cfg, path);
  if (wanted(cfg, "W6")) w6_loop_lag(cfg, path);
  if (wanted(cfg, "W7")) w7_open_close(cfg, path);
  if (wanted(cfg, "M1")) m1_idle_connections(cfg, path);
  if (wanted(cfg, "M2")) m2_streaming(cfg, dir.string());
  std::filesystem::remove_all(dir);

  for (auto& r : g_results) {
    if (r.ratio_is_meaningful) {
      const double ratio = r.raw > 0 ? r.uvsqlite / r.raw : 0;
      r.verdict = ratio >= r.target ? "met" : "NOT met";
      std::printf(
          "{\"id\":\"%s\",\"workload\":\"%s\",\"unit\":\"%s\",\"uvsqlite\":%.1f,\"raw\":%.1f,\"ratio\":%.3f,"
          "\"target\":%.2f,\"verdict\":\"%s\"%s}\n",
          r.id.c_str(), r.name.c_str(), r.unit.c_str(), r.uvsqlite, r.raw, ratio, r.target, r.verdict.c_str(),
          r.extra.c_str());
    } else {
      std::printf(
          "{\"id\":\"%s\",\"workload\":\"%s\",\"unit\":\"%s\",\"uvsqlite\":%.3f,\"verdict\":\"%s\"%s}\n",
          r.id.c_str(), r.name.c_str(), r.unit.c_str(), r.uvsqlite, r.verdict.c_str(), r.extra.c_str());
    }
  }
  std::printf("\n%-5s %-38s %14s %14s %8s %8s  %s\n", "id", "workload", "uvsqlite", "raw SQLite", "ratio",
              "target", "verdict");
  for (const auto& r : g_results) {
    if (r.ratio_is_meaningful) {
      std::printf("%-5s %-38s %14.0f %14.0f %8.3f %8.2f  %s\n", r.id.c_str(), r.name.c_str(), r.uvsqlite,
                  r.raw, r.raw > 0 ? r.uvsqlite / r.raw : 0, r.target, r.verdict.c_str());
    } else {
      std::printf("%-5s %-38s %11.3f %-3s %14s %8s %8s  %s\n", r.id.c_str(), r.name.c_str(), r.uvsqlite,
                  r.unit.c_str(), "", "", "", r.verdict.c_str());
    }
  }
  std::printf("(%s run; ratios are uvsqlite / raw SQLite C API on one thread, higher is better)\n",
              cfg.quick ? "quick" : "full");
  return 0;
}
