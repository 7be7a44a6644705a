#pragma once
// What a Connection handle points to: the worker (thread + queue + Session), the loop bridge,
// and the state readable from any thread. Shared by Connection and Cursor handles; when the
// last one goes, the connection closes in the background.

#include <uv.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

#include "loop_bridge.hpp"
#include "shared_state.hpp"
#include "typed_job.hpp"
#include "uvsqlite/completion.hpp"
#include "uvsqlite/errors.hpp"
#include "uvsqlite/options.hpp"
#include "worker.hpp"

namespace uvsqlite::detail {

class ConnectionCore : public std::enable_shared_from_this<ConnectionCore> {
 public:
  /// Starts the worker (the database is opened by the first job). `loop` may be null.
  ConnectionCore(uv_loop_t* loop, std::string path, Options options);
  ConnectionCore(const ConnectionCore&) = delete;
  ConnectionCore& operator=(const ConnectionCore&) = delete;
  /// The last handle is gone: close in the background, without blocking.
  ~ConnectionCore();

  /// Any thread: queues `work` (callable as T(Session&)) with `completion`.
  /// @throws ProgrammingError at once for a loop form on a connection without a loop.
  template <class T, class Work>
  void submit(PendingCompletion<T> completion, Work&& work) {
    std::unique_ptr<Job> job = admit(completion, [&] {
      return TypedJob<T, std::decay_t<Work>>::make(completion, bridge_.get(), std::forward<Work>(work));
    });
    if (job) submit_internal(std::move(job));
  }

  /// Any thread, before an operation with `completion` is queued: returns `make()` (what will
  /// be queued, taking the completion), or null when the operation is refused. A future
  /// requested from this connection's own worker (a SQL function or hook), or from the worker of
  /// a backup that holds this connection, whose blocking get() would wait on the very thread
  /// that must fulfil it (directly or through the hold), is failed at once instead. A loop form
  /// is counted as outstanding on the bridge once make() returned, so that what make() throws
  /// leaves nothing counted that never comes (what it made then dies unsettled).
  /// @throws ProgrammingError for a loop form on a connection without a loop; what make() throws
  template <class T, class Make>
  std::invoke_result_t<Make&> admit(PendingCompletion<T>& completion, Make&& make) {
    const bool on_loop = completion->on_loop();
    if (!on_loop && refuse(completion)) return nullptr;
    std::invoke_result_t<Make&> made = make();
    if (on_loop) expect_loop();
    return made;
  }

  /// The pointer user handles (Connection and Cursor) hold: it shares this core's lifetime but
  /// has its own count, so that when the last user handle goes (on whatever thread drops it) the
  /// loop handle is retired at once, even while queued jobs still hold the core itself.
  std::shared_ptr<ConnectionCore> front();

  /// Any thread: queues a job; fails it at once (ProgrammingError) when the worker has exited.
  void submit_internal(std::unique_ptr<Job> job) {
    if (worker_->push(job)) return;
    job->fail(closed_database_error());
    (void)Job::finish(std::move(job));  // this is a submitting thread: a job left over dies here
  }

  /// Any thread: queues close().
  void submit_close(PendingCompletion<void> completion);

  [[nodiscard]] const Options& options() const noexcept { return options_; }
  [[nodiscard]] uv_loop_t* loop() const noexcept { return bridge_ ? bridge_->loop() : nullptr; }
  [[nodiscard]] SharedState& shared() const noexcept { return *shared_; }
  [[nodiscard]] LoopBridge* bridge() const noexcept { return bridge_.get(); }
  [[nodiscard]] const Worker& worker() const noexcept { return *worker_; }
  /// Target's worker, while a backup holds it: the source worker doing the copy (or null).
  void set_held_by(const Worker* source) noexcept { held_by_.store(source, std::memory_order_release); }
  /// sqlite3_interrupt on the open handle, from any thread.
  void interrupt() const;

  static std::exception_ptr reentrancy_error();

 private:
  void expect_loop();
  // Fails a future that would deadlock (see admit) and returns true; false otherwise.
  template <class T>
  bool refuse(PendingCompletion<T>& future) {
    const Worker* holder = held_by_.load(std::memory_order_acquire);
    if (!worker_->is_current_thread() && (holder == nullptr || !holder->is_current_thread())) return false;
    Outcome<T> outcome;
    outcome.error = reentrancy_error();
    finish(future, std::move(outcome), bridge_.get());
    return true;
  }

  Options options_;
  std::mutex front_mutex_;
  std::weak_ptr<ConnectionCore> front_;  // guarded by front_mutex_
  std::shared_ptr<SharedState> shared_;
  std::shared_ptr<LoopBridge> bridge_;  // null without a loop
  std::shared_ptr<Worker> worker_;
  std::atomic<const Worker*> held_by_{nullptr};
};

/// Fails `completion` at once through its own form, for an operation on a handle that belongs
/// to no connection. Loop forms have no loop to run on: they throw ProgrammingError.
template <class T>
void fail_unbound(PendingCompletion<T>& completion, const char* message) {
  if (completion->on_loop()) throw ProgrammingError(message);
  Outcome<T> outcome;
  outcome.error = std::make_exception_ptr(ProgrammingError(message));
  completion->settle(std::move(outcome));  // a future: settling is all there is
  completion.reset();
}

}  // namespace uvsqlite::detail
