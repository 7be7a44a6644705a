// Google Benchmark micro-benchmarks of uvsqlite's hot paths: the submit + complete round trip in
// each completion form, row materialization, parameter binding and statement cache hits. Each
// has a raw SQLite counterpart where one exists, for a ratio in the same run.

#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <uv.h>

#include <string>
#include <uvsqlite/uvsqlite.hpp>
#include <vector>

namespace {

// A no-op job's round trip through the worker, waited on with a future (no loop involved).
void BM_RoundTripFuture(benchmark::State& state) {
  auto db = uvsqlite::connect(":memory:").get();
  for (auto _ : state) db.call([](sqlite3*) { return 0; }).get();
  db.close().get();
}
BENCHMARK(BM_RoundTripFuture);

// The same round trip delivered as a callback on a uv loop.
void BM_RoundTripCallback(benchmark::State& state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    auto db = uvsqlite::connect(&loop, ":memory:").get();
    for (auto _ : state) {
      bool done = false;
      db.call([](sqlite3*) { return 0; }, [&](std::exception_ptr, int) { done = true; });
      while (!done) uv_run(&loop, UV_RUN_ONCE);
    }
    bool closed = false;
    db.close([&](std::exception_ptr) { closed = true; });
    while (!closed) uv_run(&loop, UV_RUN_ONCE);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}
BENCHMARK(BM_RoundTripCallback);

void make_table(const uvsqlite::Connection& db, int rows) {
  db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL)").get();
  std::vector<uvsqlite::Params> params;
  for (int i = 1; i <= rows; ++i) params.push_back({i, "name-" + std::to_string(i), i * 0.5});
  db.executemany("INSERT INTO t VALUES (?, ?, ?)", std::move(params)).get();
  db.commit().get();
}

// A point select through the statement cache: prepare once, then bind / step / reset.
void BM_PointSelectCached(benchmark::State& state) {
  auto db = uvsqlite::connect(":memory:").get();
  make_table(db, 1000);
  std::int64_t id = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        db.execute_fetchall("SELECT id, name, value FROM t WHERE id = ?", {id++ % 1000 + 1}).get());
  }
  db.close().get();
}
BENCHMARK(BM_PointSelectCached);

// The same select without the cache: every execution prepares.
void BM_PointSelectUncached(benchmark::State& state) {
  uvsqlite::Options options;
  options.cached_statements = 0;
  auto db = uvsqlite::connect(":memory:", options).get();
  make_table(db, 1000);
  std::int64_t id = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        db.execute_fetchall("SELECT id, name, value FROM t WHERE id = ?", {id++ % 1000 + 1}).get());
  }
  db.close().get();
}
BENCHMARK(BM_PointSelectUncached);

// Materializing rows: one fetchall of 1,000 rows per iteration, on the worker.
void BM_MaterializeRows(benchmark::State& state) {
  auto db = uvsqlite::connect(":memory:").get();
  make_table(db, 1000);
  for (auto _ : state) benchmark::DoNotOptimize(db.execute_fetchall("SELECT * FROM t").get());
  state.SetItemsProcessed(state.iterations() * 1000);
  db.close().get();
}
BENCHMARK(BM_MaterializeRows);

// Raw SQLite reading the same 1,000 rows into the same shape, for the ratio.
void BM_MaterializeRowsRaw(benchmark::State& state) {
  sqlite3* raw = nullptr;
  sqlite3_open(":memory:", &raw);
  sqlite3_exec(raw,
               "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, value REAL);"
               "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 1000) "
               "INSERT INTO t SELECT i, 'name-' || i, i * 0.5 FROM c;",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(raw, "SELECT * FROM t", -1, &stmt, nullptr);
  for (auto _ : state) {
    std::vector<std::tuple<std::int64_t, std::string, double>> rows;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      rows.emplace_back(sqlite3_column_int64(stmt, 0),
                        reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)),
                        sqlite3_column_double(stmt, 2));
    }
    sqlite3_reset(stmt);
    benchmark::DoNotOptimize(rows);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}
BENCHMARK(BM_MaterializeRowsRaw);

// Binding parameters: an executemany of 1,000 three-column rows into a temp table.
void BM_BindParameters(benchmark::State& state) {
  auto db = uvsqlite::connect(":memory:").get();
  db.execute("CREATE TABLE t(a, b, c)").get();
  for (auto _ : state) {
    std::vector<uvsqlite::Params> params;
    params.reserve(1000);
    for (int i = 0; i < 1000; ++i) params.push_back({i, "text value", i * 0.25});
    db.executemany("INSERT INTO t VALUES (?, ?, ?)", std::move(params)).get();
    db.rollback().get();
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  db.close().get();
}
BENCHMARK(BM_BindParameters);

}  // namespace

BENCHMARK_MAIN();
