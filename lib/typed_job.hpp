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

/// The same for a completion no job took: a loop form moves to the heap first, since it outlives
/// the initiating call. @throws std::bad_alloc (then nothing was settled)
template <class T>
void finish(PendingCompletion<T>& completion, Outcome<T>&& outcome, LoopBridge* bridge) {
  if (completion->on_loop()) {
    CompletionPtr<T> owned = std::move(completion).to_heap();
    finish(owned, std::move(outcome), bridge);
    return;
  }
  completion->settle(std::move(outcome));
  completion.reset();
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
///
/// One allocation per operation: a completion still in the initiating call's frame moves into
/// the job's own block, right after the job (see PendingCompletion); one on the heap is adopted.
template <class T, class Work>
class TypedJob final : public Job {
 public:
  /// The job for `work`, taking `completion` in. @throws what allocating or moving `work` throws
  /// (`completion` is then untouched)
  template <class W>
  static std::unique_ptr<Job> make(PendingCompletion<T>& completion, LoopBridge* bridge, W&& work) {
    static_assert(alignof(TypedJob) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
                  "the block is aligned as operator new aligns");
    const std::size_t tail = completion.footprint();
    std::unique_ptr<TypedJob> job(new (Tail{tail}) TypedJob(bridge, std::forward<W>(work)));
    job->in_place_ = tail != 0;
    job->completion_ = completion.take(reinterpret_cast<char*>(job.get()) + tail_offset());
    return job;
  }

  /// Where a completion moved in starts: after the job, aligned as operator new aligns.
  static constexpr std::size_t tail_offset() noexcept {
    constexpr std::size_t align = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
    return (sizeof(TypedJob) + align - 1) / align * align;
  }

  TypedJob(const TypedJob&) = delete;
  TypedJob& operator=(const TypedJob&) = delete;
  ~TypedJob() override {
    if (in_place_) {
      completion_->~Completion<T>();
    } else {
      delete completion_;
    }
  }

  // One block holds the job and, after it, the completion moved in: a new-expression with the
  // tail's size, and the matching deletes.
  struct Tail {
    std::size_t bytes;
  };
  static void* operator new(std::size_t /*size*/, Tail tail) {
    return ::operator new(tail_offset() + tail.bytes);
  }
  static void operator delete(void* block, Tail /*tail*/) noexcept { ::operator delete(block); }
  static void operator delete(void* block) noexcept { ::operator delete(block); }

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
  template <class W>
  TypedJob(LoopBridge* bridge, W&& work) : bridge_(bridge), work_(std::forward<W>(work)) {}

  Completion<T>* completion_ = nullptr;  // owned: in this block (in_place_), or on the heap
  bool in_place_ = false;
  // Borrowed (null for a future-only connection). The bridge is owned by the connection, its
  // open loop handle and its worker; it outlives every post: the worker running this job holds
  // it, as does the connection of a submitter failing it, and the open handle holds it until
  // every posted job was delivered.
  LoopBridge* bridge_;
  Work work_;
};

}  // namespace uvsqlite::detail
