#pragma once
// The job that runs one operation: its work function on the worker, then its completion settled
// there; a loop form's job then travels to the loop bridge with it. Every operation goes through this.

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include "job.hpp"
#include "loop_bridge.hpp"
#include "session.hpp"
#include "uvsqlite/completion.hpp"

namespace uvsqlite::detail {

/// Settles `completion` with `outcome` and routes it: loop forms to the bridge, futures are done.
template <class T>
void finish(CompletionPtr<T>& completion, Outcome<T>&& outcome, LoopBridge* bridge) noexcept {
  completion->settle(std::move(outcome));
  if (completion->on_loop()) {
    bridge->post(std::move(completion));
  } else {
    completion.reset();
  }
}

/// Passes a completion through the loop bridge whatever its form: settled as `inner` is, then
/// delivered (as `inner` would be, a no-op for a future) on the loop thread.
template <class T>
class ThroughLoop final : public Completion<T> {
 public:
  explicit ThroughLoop(CompletionPtr<T> inner) noexcept : Completion<T>(true), inner_(std::move(inner)) {}
  void settle(Outcome<T>&& outcome) noexcept override { inner_->settle(std::move(outcome)); }
  void deliver() override { inner_->deliver(); }

 private:
  CompletionPtr<T> inner_;
};

/// `Work` is callable as `T(Session&)` and runs on the worker against an open session.
template <class T, class Work>
class TypedJob final : public Job {
 public:
  TypedJob(CompletionPtr<T> completion, LoopBridge* bridge, Work work)
      : completion_(std::move(completion)), bridge_(bridge), work_(std::move(work)) {}

  void run(Session& session) noexcept override {
    Outcome<T> outcome;
    try {
      if constexpr (std::is_void_v<T>) {
        work_(session);
      } else {
        outcome.value.emplace(work_(session));
      }
    } catch (...) {
      outcome.error = std::current_exception();
    }
    // Published before the completion is visible, so properties read in a callback (or after
    // a future's get) reflect this job.
    session.publish();
    completion_->settle(std::move(outcome));
  }

  void fail(std::exception_ptr error) noexcept override {
    Outcome<T> outcome;
    outcome.error = std::move(error);
    completion_->settle(std::move(outcome));
  }

  void deliver() override { completion_->deliver(); }

 protected:
  // A loop form's job goes to the loop with its settled completion; a future's stays.
  std::unique_ptr<Job> travel(std::unique_ptr<Job> self) noexcept override {
    if (!completion_->on_loop()) return self;
    bridge_->post(std::move(self));  // read before the call: the job may be gone during it
    return nullptr;
  }

 private:
  CompletionPtr<T> completion_;
  // Borrowed (null for a future-only connection). The bridge is owned by the connection, its
  // open loop handle and its worker; it outlives every post: the worker running this job holds
  // it, as does the connection of a submitter failing it, and the open handle holds it until
  // every posted job was delivered.
  LoopBridge* bridge_;
  Work work_;
};

}  // namespace uvsqlite::detail
