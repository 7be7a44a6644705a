#pragma once
// A unit of work on a connection's worker thread.

#include <exception>
#include <memory>

#include "uvsqlite/completion.hpp"

namespace uvsqlite::detail {

class Session;

/// A job is a Delivery so that a job whose completion runs on the loop can travel there whole:
/// it is then destroyed on the loop thread, which allocated it, with what it captured (SQL text,
/// parameters). Freeing memory on the thread that allocated it keeps the allocator's per-thread
/// caches warm on both sides.
class Job : public Delivery {
 public:
  Job() = default;

  /// Worker thread: does the work against the open session and settles the completion.
  virtual void run(Session& session) noexcept = 0;
  /// Any thread: the job will never run (the connection is closed); settles with `error`.
  virtual void fail(std::exception_ptr error) noexcept = 0;
  /// Loop thread, for a job posted by dispose(): calls its completion back.
  void deliver() override {}

  /// The next job in a JobQueue (the one pushed before this one), or in a JobChain.
  Job* queue_next = nullptr;

  /// After run() or fail(), on the same thread: the finished job goes where its completion goes
  /// (see dispose(std::unique_ptr<Job>)).
  static void dispose(std::unique_ptr<Job> job) noexcept {
    Job* j = job.get();
    j->dispose_self(std::move(job));
  }

 protected:
  /// Receives the job's own ownership once it ran or failed; destroying `self` (the default)
  /// ends it here.
  virtual void dispose_self(std::unique_ptr<Job> self) noexcept { self.reset(); }
};

}  // namespace uvsqlite::detail
