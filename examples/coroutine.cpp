// coroutine.cpp: the C++20 co_await form. With uvsqlite::use_awaitable as the last argument an
// operation returns an awaitable; the coroutine resumes on the loop thread with the result, or
// with the operation's error thrown at the co_await.

#include <uv.h>

#include <coroutine>
#include <cstdio>
#include <exception>
#include <string>

#include <uvsqlite/uvsqlite.hpp>

namespace {

using uvsqlite::use_awaitable;

// uvsqlite brings no task type. This one starts at once and frees itself when the body ends;
// an error the body does not catch is a bug here, so it ends the program as a throw would.
struct Task {
  struct promise_type {
    Task get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept {
      try {
        throw;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "unhandled exception: %s\n", e.what());
      }
      std::terminate();
    }
  };
};

// Options and Params are named variables below, not braced temporaries inside the co_await:
// GCC 12 miscompiles an aggregate temporary such as `{}` for Options there (its std::string is
// copied bitwise and later freed from the coroutine frame) and rejects a braced Params list
// ("array used as initializer"). Clang has neither problem.
Task run(uv_loop_t* loop) {
  const uvsqlite::Options options;
  uvsqlite::Connection db = co_await uvsqlite::connect(loop, ":memory:", options, use_awaitable);
  co_await db.executescript(
      "CREATE TABLE city(name TEXT, country TEXT, population INTEGER);"
      "INSERT INTO city VALUES ('Lagos', 'NG', 15388000), ('Lyon', 'FR', 522250),"
      " ('Osaka', 'JP', 2753862), ('Porto', 'PT', 231800), ('Quito', 'EC', 2800388);",
      use_awaitable);

  const uvsqlite::Params big = {1'000'000};
  uvsqlite::Cursor cursor = co_await db.execute(
      "SELECT name, population FROM city WHERE population > ? ORDER BY name", big, use_awaitable);
  // Rows arrive in chunks (Options::iter_chunk_size per worker hop); most next() calls are
  // served from the chunk at hand without suspending.
  while (auto row = co_await cursor.next()) {
    const auto [name, population] = row->as<std::string, long long>();
    std::printf("%-6s %9lld\n", name.c_str(), population);
  }

  try {
    co_await db.execute("SELECT nme FROM city", use_awaitable);
  } catch (const uvsqlite::OperationalError& e) {
    std::printf("OperationalError: %s\n", e.what());
  }

  co_await db.close(use_awaitable);
}

}  // namespace

int main() {
  uv_loop_t loop;
  uv_loop_init(&loop);
  run(&loop);  // runs up to its first co_await; uv_run drives the rest
  uv_run(&loop, UV_RUN_DEFAULT);
  return uv_loop_close(&loop) == 0 ? 0 : 1;
}
