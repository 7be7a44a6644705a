#pragma once
// A unit of work on a connection's worker thread.

#include <exception>
#include <memory>

#include "uvsqlite/completion.hpp"

namespace uvsqlite::detail {

class Session;

/// A job is a Delivery so that a job whose completion runs on the loop can travel there whole:
/// it is then destroyed on the loop thread, which allocated it, with what it captured (SQL text,
/// parameters). Any other finished job goes back to a submitting thread to be destroyed (see
/// Worker). Freeing memory on the thread that allocated it keeps the allocator's per-thread
/// caches warm and, above all, keeps the worker off the submitter's arena lock, which the two
/// threads otherwise fight over (and sleep on) once per operation.
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

  /// After run() or fail(), on the same thread: the finished job goes where its completion goes.
  /// Returns it when it stays with the caller (who destroys it, or hands it back to a submitting
  /// thread); null when it went to the loop thread.
  static std::unique_ptr<Job> finish(std::unique_ptr<Job> job) noexcept {
    Job* j = job.get();
    return j->travel(std::move(job));
  }

 protected:
  /// Receives the job's own ownership once it ran or failed; returns it (the default) unless it
  /// sent itself on.
  virtual std::unique_ptr<Job> travel(std::unique_ptr<Job> self) noexcept { return self; }
};

}  // namespace uvsqlite::detail
