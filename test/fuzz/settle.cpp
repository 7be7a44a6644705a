#include "settle.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <thread>

namespace uvsqlite::fuzz {

uv_loop_t* fuzz_loop() {
  static uv_loop_t* loop = [] {
    static uv_loop_t storage;
    if (uv_loop_init(&storage) != 0) std::abort();
    return &storage;
  }();
  return loop;
}

std::size_t thread_count() {
  const std::filesystem::directory_iterator tasks("/proc/self/task");
  return static_cast<std::size_t>(std::distance(begin(tasks), end(tasks)));
}

namespace {

int open_handles(uv_loop_t* loop) {
  int count = 0;
  uv_walk(
      loop, [](uv_handle_t* /*handle*/, void* arg) { ++*static_cast<int*>(arg); }, &count);
  return count;
}

}  // namespace

bool settle(uv_loop_t* loop, std::size_t threads) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    // NOWAIT: a background close asks the loop to close its handle through an unreferenced
    // async handle, which UV_RUN_DEFAULT would not wait for.
    uv_run(loop, UV_RUN_NOWAIT);
    if (open_handles(loop) == 0 && thread_count() <= threads) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

}  // namespace uvsqlite::fuzz
