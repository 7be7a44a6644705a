#include "support/test_support.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace uvsqlite::test {

void keep_escaped() noexcept { escaped_from_task() = std::current_exception(); }

void fail_on_escape() noexcept { ADD_FAILURE() << "exception escaped a test coroutine"; }

void terminate_on_escape() noexcept { std::terminate(); }

std::exception_ptr& escaped_from_task() {
  static std::exception_ptr escaped;
  return escaped;
}

TempDir::TempDir() : TempDir(std::filesystem::temp_directory_path()) {}

TempDir::TempDir(const std::filesystem::path& base) {
  std::random_device rd;
  for (;;) {
    path_ = base / ("uvsqlite-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(path_)) break;
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name) const { return (path_ / name).string(); }

void LoopTest::SetUp() { ASSERT_EQ(uv_loop_init(&loop_), 0); }

void LoopTest::TearDown() {
  // Let every close callback run; then the loop must close cleanly.
  for (int i = 0; i < 1000 && uv_loop_alive(&loop_) != 0; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop_), 0) << "a uv handle was left open";
}

bool LoopTest::run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (uv_run(&loop_, UV_RUN_NOWAIT) == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

Connection LoopTest::open(const std::string& path, Options options) {
  return connect(&loop_, path, std::move(options)).get();
}

void LoopTest::close(const Connection& db) {
  bool done = false;
  db.close([&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    done = true;
  });
  EXPECT_TRUE(run_until([&] { return done; }));
}

std::size_t thread_count() {
  // Sanitizer runtimes start a helper thread of their own with the first thread the process
  // creates; start one here first, so that a baseline taken before any connection counts it.
  static const bool warmed = [] {
    std::thread([] {}).join();
    return true;
  }();
  (void)warmed;
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace uvsqlite::test
