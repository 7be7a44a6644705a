#pragma once
// The completion bridge: the one uv_async_t a connection owns on its loop. Workers post settled
// completions from any thread; the loop thread drains them all per wake-up (sends coalesce) and
// delivers them in order.
//
// Referencing: the handle is uv_ref'ed only while loop-form completions are outstanding, so an
// idle connection does not keep uv_run alive. Ref changes happen on the loop thread only.
//
// Waiting: while completions are outstanding, the loop thread spins briefly for them (a uv_idle_t,
// unreferenced, whose callback also makes the loop poll without blocking) before it lets epoll
// block; a completion posted during the spin is picked up without the eventfd round trip, which
// on a VM costs a vCPU wake-up (see spin.hpp). Only when the loop is not spinning does post()
// signal the uv_async_t.
//
// Posting is lock-free (a stack the loop empties in one exchange and reverses), so that a worker
// finishing a job never waits for the loop thread, which holds the mutex while it submits and
// delivers; the mutex is taken by a poster only to signal a loop that is not spinning.
//
// Lifetime: the uv_async_t (with the uv_idle_t) is heap-allocated with a reference to this bridge and freed
// in its close callback. It is closed once the connection is retired (closed or dropped) and nothing is
// outstanding; a loop-form submission on the loop thread after that opens a new one, so even a
// late failure is delivered through the loop.

#include <uv.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "short_mutex.hpp"
#include "uvsqlite/completion.hpp"

namespace uvsqlite::detail {

class LoopBridge : public std::enable_shared_from_this<LoopBridge> {
 public:
  /// Loop thread: records the loop and its thread; the handle is opened by open().
  explicit LoopBridge(uv_loop_t* loop);
  LoopBridge(const LoopBridge&) = delete;
  LoopBridge& operator=(const LoopBridge&) = delete;
  ~LoopBridge();

  /// Loop thread, right after construction: initializes the uv_async_t (unreferenced).
  void open();
  [[nodiscard]] uv_loop_t* loop() const noexcept { return loop_; }

  /// Any thread, before submitting a loop-form job: one more delivery is outstanding, so the
  /// handle is referenced. @throws ProgrammingError off the loop thread when the handle is
  /// already closed (the connection is closed and idle): nothing could wake the loop.
  void expect();
  /// Any thread: queues a settled completion (one that was expect()ed) for the loop thread. The
  /// caller keeps the bridge alive through the call (a worker holds its connection's bridge, a
  /// submitter its connection): once queued, the delivery may be gone with its references.
  void post(std::unique_ptr<Delivery> delivery) noexcept;
  /// Any thread: the connection is closed; close the handle once nothing is outstanding.
  void retire() noexcept;
  /// Any thread: the connection itself is gone (nothing can be submitted any more): retires, and
  /// the error handler, a user object, is destroyed on the loop thread once the handle closed,
  /// rather than with the bridge, whose last owner may be the connection's exiting worker.
  void abandon() noexcept;
  /// Any thread: replaces the handler for exceptions escaping deliveries.
  void set_error_handler(ErrorHandler handler);

 private:
  struct AsyncHandle;
  static void on_async(uv_async_t* handle);
  static void on_idle(uv_idle_t* handle);
  static void on_close(uv_handle_t* handle);
  [[nodiscard]] bool on_loop_thread() const noexcept;
  void open_locked();
  void close_locked() noexcept;
  void drain();
  void spin();
  void start_spinning_locked() noexcept;
  void stop_spinning_locked() noexcept;
  void report(std::exception_ptr error) noexcept;

  uv_loop_t* loop_;
  uv_thread_t loop_thread_;

  ShortMutex mutex_;
  std::size_t outstanding_ = 0;    // guarded: expected, not yet delivered
  AsyncHandle* handle_ = nullptr;  // guarded: the open handle, or null
  bool retired_ = false;           // guarded
  bool abandoned_ = false;         // guarded
  // The idle handle is active. Written on the loop thread under the mutex; posters read it.
  std::atomic<bool> spinning_{false};
  std::uint64_t spin_deadline_ = 0;  // loop thread: when the current spin ends
  std::size_t backlog_ = 0;          // loop thread: outstanding_ when it last changed here
  bool deadline_stale_ = false;      // loop thread: a new wait began; spin() restarts the clock
  ErrorHandler error_handler_;       // guarded
  // Posted deliveries, newest first (owned). Alone on its line: the one line posters write.
  alignas(64) std::atomic<Delivery*> posted_{nullptr};
  [[maybe_unused]] char pad_[64 - sizeof(std::atomic<Delivery*>)]{};
};

}  // namespace uvsqlite::detail
