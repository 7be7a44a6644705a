#pragma once
// A unit of work on a connection's worker thread.

#include <exception>

namespace uvsqlite::detail {

class Session;

class Job {
 public:
  Job() = default;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  virtual ~Job() = default;

  /// Worker thread: does the work against the open session and settles the completion.
  virtual void run(Session& session) noexcept = 0;
  /// Any thread: the job will never run (the connection is closed); settles with `error`.
  virtual void fail(std::exception_ptr error) noexcept = 0;
};

}  // namespace uvsqlite::detail
