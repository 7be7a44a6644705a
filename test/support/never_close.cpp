// Opens a connection, keeps a long job queued and returns from main without close(): the
// process must still exit with status 0 (no thread may block exit).
#include <uv.h>

#include <cstdio>

#include "uvsqlite/uvsqlite.hpp"

namespace {
// A handle that outlives main: destroyed during static destruction, with the worker still busy.
uvsqlite::Connection g_leaked;
}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : ":memory:";
  uv_loop_t* loop = uv_default_loop();
  uvsqlite::Connection db = uvsqlite::connect(loop, path).get();
  db.execute("CREATE TABLE IF NOT EXISTS t(x)").get();
  db.execute("INSERT INTO t VALUES (1)").get();
  db.commit().get();
  // Queue a slow query that will still be running when main returns.
  (void)db.execute(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) "
      "SELECT count(*) FROM c");
  g_leaked = db;
  std::puts("leaving main with the connection open");
  return 0;
}
