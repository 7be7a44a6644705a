#pragma once
// Shared fixtures for the uvsqlite tests: a libuv loop per test and temporary database files.

#include <gtest/gtest.h>
#include <uv.h>

#include <chrono>
#include <coroutine>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>

#include "uvsqlite/uvsqlite.hpp"

namespace uvsqlite::test {

/// A fresh temporary directory, removed with its contents at destruction.
class TempDir {
 public:
  TempDir();
  /// A directory inside `base` rather than the system's temporary directory.
  explicit TempDir(const std::filesystem::path& base);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// Path of a file named `name` inside the directory.
  [[nodiscard]] std::string file(const std::string& name) const;

 private:
  std::filesystem::path path_;
};

/// A test that owns a uv loop. TearDown runs the loop until every handle is closed and checks
/// that uv_loop_close succeeds (no handle leaked).
class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// uv_run(UV_RUN_DEFAULT): returns once no callback is outstanding.
  void run() { uv_run(&loop_, UV_RUN_DEFAULT); }
  /// Runs the loop (NOWAIT steps, sleeping briefly) until pred() holds or `timeout` passes.
  bool run_until(const std::function<bool()>& pred,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20));
  /// connect(&loop_, path) in the future form, then .get().
  Connection open(const std::string& path = ":memory:", Options options = {});
  /// close() in the callback form, then runs the loop until it completed.
  void close(const Connection& db);
  /// Starts a void operation in the callback form (`start` receives the callback), checks that
  /// it is not called back inside the call, runs the loop until it is, and returns its error.
  template <class Start>
  std::exception_ptr wait_void(Start&& start) {
    bool done = false;
    std::exception_ptr error;
    std::forward<Start>(start)([&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    EXPECT_FALSE(done) << "the callback ran inside the call";
    EXPECT_TRUE(run_until([&] { return done; }));
    return error;
  }

  uv_loop_t loop_{};
  TempDir dir_;
};

/// The exception that last escaped a Task coroutine (null when none did); tests reset it.
std::exception_ptr& escaped_from_task();

/// A fire-and-forget coroutine for the awaitable form: starts eagerly and frees its frame when
/// it finishes; an exception that escapes it goes to `on_escape` (inside the catch).
template <void (*on_escape)() noexcept>
struct BasicTask {
  struct promise_type {
    BasicTask get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { on_escape(); }
  };
};

/// Keeps the escaping exception in escaped_from_task().
void keep_escaped() noexcept;
/// A test failure: the coroutine was not to throw.
void fail_on_escape() noexcept;
/// std::terminate, as an exception escaping a plain function's noexcept would.
[[noreturn]] void terminate_on_escape() noexcept;

/// The tests' usual Task: an escaped exception is kept for the test to look at.
using Task = BasicTask<&keep_escaped>;

/// Number of threads of this process (from /proc/self/task).
std::size_t thread_count();

/// Resident set size of this process, in bytes (from /proc/self/statm).
std::size_t resident_bytes();

/// Expects `error` to hold an E whose what() contains `needle` (when given).
template <class E>
void expect_error(const std::exception_ptr& error, std::string_view needle = {}) {
  ASSERT_TRUE(error) << "expected an error, got success";
  try {
    std::rethrow_exception(error);
  } catch (const E& e) {
    if (!needle.empty()) {
      EXPECT_NE(std::string_view(e.what()).find(needle), std::string_view::npos) << e.what();
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type " << typeid(e).name() << ": " << e.what();
  } catch (...) {
    ADD_FAILURE() << "a non-std exception";
  }
}

/// True when `text` contains `part`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The E that `f()` throws (a failure, and nullopt, for another exception or none).
template <class E, class F>
std::optional<E> catch_as(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const E& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception " << typeid(e).name() << ": " << e.what();
    return std::nullopt;
  }
  ADD_FAILURE() << "no exception";
  return std::nullopt;
}

/// The E that `p` holds (a failure, and nullopt, for another exception or none).
template <class E>
std::optional<E> error_as(const std::exception_ptr& p) {
  if (!p) {
    ADD_FAILURE() << "no error";
    return std::nullopt;
  }
  return catch_as<E>([&] { std::rethrow_exception(p); });
}

/// what() of the exception `e` holds, "none" for null, "?" for a non-std exception.
inline std::string describe(const std::exception_ptr& e) {
  if (!e) return "none";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "?";
  }
}

/// The exception a future holds, or null when it holds a value.
template <class F>
std::exception_ptr error_of(F&& future) {
  try {
    future.get();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

}  // namespace uvsqlite::test
