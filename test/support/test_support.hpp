#pragma once
// Shared fixtures for the uvsqlite tests: a libuv loop per test and temporary database files.

#include <gtest/gtest.h>
#include <uv.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "uvsqlite/uvsqlite.hpp"

namespace uvsqlite::test {

/// A fresh temporary directory, removed with its contents at destruction.
class TempDir {
 public:
  TempDir();
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

  uv_loop_t loop_{};
  TempDir dir_;
};

/// Number of threads of this process (from /proc/self/task).
std::size_t thread_count();

}  // namespace uvsqlite::test
