// callback.cpp: the Node-style callback form. Each operation takes an error-first callback as
// its last argument; it runs later on the loop thread, never inside the call, so uv_run() drives
// the whole program and returns once no callback is outstanding.

#include <uv.h>

#include <cstdio>
#include <exception>
#include <vector>

#include <uvsqlite/uvsqlite.hpp>

namespace {
int status = 0;

// True (after printing it) when `error` is set: every callback starts with this check.
bool failed(const std::exception_ptr& error) {
  if (!error) return false;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  status = 1;
  return true;
}
}  // namespace

int main() {
  uv_loop_t loop;
  uv_loop_init(&loop);

  uvsqlite::connect(&loop, ":memory:", {}, [](std::exception_ptr error, uvsqlite::Connection db) {
    if (failed(error)) return;
    db.executescript(
        "CREATE TABLE fruit(name TEXT, price REAL);"
        "INSERT INTO fruit VALUES ('apple', 0.5), ('cherry', 4.2), ('pear', 0.8);",
        [db](std::exception_ptr error, uvsqlite::Cursor) {
          // Copies of `db` share one connection, so each callback can keep its own.
          if (failed(error)) return db.close([](std::exception_ptr) {});
          db.execute_fetchall("SELECT name, price FROM fruit WHERE price < ? ORDER BY name", {1.0},
                              [db](std::exception_ptr error, std::vector<uvsqlite::Row> rows) {
                                if (!failed(error)) {
                                  for (const auto& row : rows) {
                                    std::printf("%-6s %.2f\n", row.get<std::string>("name").c_str(),
                                                row.get<double>("price"));
                                  }
                                }
                                // The connection's loop handle must be gone before uv_loop_close.
                                db.close([](std::exception_ptr error) { (void)failed(error); });
                              });
        });
  });

  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) status = 1;
  return status;
}
