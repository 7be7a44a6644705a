#pragma once
// A connection's private thread and its FIFO job queue. The thread owns the Session (and so the
// sqlite3*); nothing else calls into SQLite for this connection.

#include <uv.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>

#include "job.hpp"
#include "job_queue.hpp"
#include "session.hpp"

namespace uvsqlite::detail {

class CpuPresence;
class LoopBridge;

/// The error of every job that reaches a closed connection.
std::exception_ptr closed_database_error();

class Worker {
 public:
  /// Starts the thread. The thread keeps the Worker alive until it exits. `bridge` (null
  /// without a loop) is where the jobs it runs post their completions.
  static std::shared_ptr<Worker> start(std::unique_ptr<Session> session, std::shared_ptr<LoopBridge> bridge);

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  /// Any thread: appends a job. Jobs run one at a time in push order; once the session is
  /// closed, the remaining and later jobs are failed in order instead. Returns false (the job
  /// untouched) when the thread has exited: the caller fails the job itself.
  bool push(std::unique_ptr<Job>& job);

  /// True on this worker's own thread (inside one of its jobs, SQL functions or hooks).
  [[nodiscard]] bool is_current_thread() const noexcept;

  /// Loop thread, after the close job completed: joins the thread, which has nothing left to do
  /// but fail trailing jobs. A no-op when already joined or abandoned.
  void reap();

  /// The last front-end owner is gone: queues a close (if none ran) and lets the thread detach
  /// itself when done; never blocks on a running job. Joins at once if the thread already exited.
  void abandon();

 private:
  Worker(std::unique_ptr<Session> session, std::shared_ptr<LoopBridge> bridge);
  static void entry(void* arg);
  void run();
  void spin_for_work(CpuPresence& here) const noexcept;
  void wake() noexcept;
  void sleep_until_work();
  // Sleeps until a job is queued or `at_most` passed (no limit without one); true with a job.
  bool wait_for_work(std::optional<std::chrono::milliseconds> at_most);
  void release_finished() noexcept;

  std::unique_ptr<Session> session_;  // touched by the thread only
  // Kept as long as the Worker: a job posts itself to the bridge, after which the loop may free
  // it (with its own reference) before LoopBridge::post returns.
  std::shared_ptr<LoopBridge> bridge_;

  JobQueue queue_;                     // lock-free: pushes from any thread, taken by the thread
  JobQueue finished_;                  // finished jobs that stay off the loop: destroyed by the next push()
  std::atomic<bool> sleeping_{false};  // the thread sleeps on wake_ (or is about to)
  std::mutex mutex_;                   // for wake_, and the lifecycle flags below
  std::condition_variable wake_;
  bool exited_ = false;     // guarded: the thread takes no more jobs
  bool joined_ = false;     // guarded: reap() joined (or is joining)
  bool abandoned_ = false;  // guarded: the thread detaches itself at exit
  uv_thread_t thread_{};
  std::shared_ptr<Worker> self_;  // the thread's reference, taken over by run()
};

}  // namespace uvsqlite::detail
