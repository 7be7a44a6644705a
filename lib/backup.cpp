#include "backup.hpp"

#include <uv.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <utility>

#include "uvsqlite/errors.hpp"

namespace uvsqlite::detail {

namespace {

// Parks the target's worker until the backup releases it.
class Hold {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    released_cv_.wait(lock, [&] { return released_; });
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    released_cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_cv_;
  bool released_ = false;
};

// One backup in progress. Touched by one thread at a time: the target's worker until it hands
// over (by queueing the first step), then the source's worker.
class Backup {
 public:
  Backup(std::shared_ptr<ConnectionCore> source, BackupOptions options, CompletionPtr<void> completion)
      : source_(std::move(source)), options_(std::move(options)), completion_(std::move(completion)) {
    if (options_.pages <= 0) options_.pages = -1;
    // From its submission on, an interrupt() of the source stops this backup at its next step
    // (read here, on the submitting thread, so that one right after backup() is never missed).
    interrupts_ = interrupts();
  }
  Backup(const Backup&) = delete;
  Backup& operator=(const Backup&) = delete;
  ~Backup() { complete(closed_database_error()); }

  std::shared_ptr<Hold> hold;  // null for a raw target
  sqlite3* target = nullptr;

  // Source worker: one step, then the next step is queued behind whatever else was submitted.
  void step(Session& s, const std::shared_ptr<Backup>& self) {
    if (done_) return;
    if (backup_ == nullptr) {
      backup_ = sqlite3_backup_init(target, "main", s.db(), options_.name.c_str());
      if (backup_ == nullptr) return complete(target_error());
    }
    const int rc = sqlite3_backup_step(backup_, options_.pages);
    if (options_.progress) {
      // Settled outside the handler, so that the worker holds no reference to the exception
      // once the waiting thread has it.
      std::exception_ptr thrown;
      try {
        options_.progress(rc, sqlite3_backup_remaining(backup_), sqlite3_backup_pagecount(backup_));
      } catch (...) {
        thrown = std::current_exception();
      }
      if (thrown) return complete(std::move(thrown));
    }
    if (rc == SQLITE_DONE) return complete(nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
      return complete(nullptr);  // finish reports it
    if (interrupts() != interrupts_) {
      // As a statement fails when interrupted; finishing early rolls the target back.
      return complete(make_sqlite_error(SQLITE_INTERRUPT, "interrupted"));
    }
    if (rc != SQLITE_OK) {
      // As CPython: wait only after a step that found the database busy or locked.
      uv_sleep(static_cast<unsigned>(std::lround(std::clamp(options_.sleep, 0.0, 3600.0) * 1000.0)));
    }
    queue_step(self);
  }

  void queue_step(const std::shared_ptr<Backup>& self);

  // Settles the user's completion once: finishes the sqlite3_backup (which reports a failed step)
  // and releases the target.
  void complete(std::exception_ptr error) noexcept {
    if (done_) return;
    done_ = true;
    if (backup_ != nullptr) {
      const int rc = sqlite3_backup_finish(backup_);
      backup_ = nullptr;
      if (rc != SQLITE_OK && !error) error = target_error();
    }
    if (hold) hold->release();
    Outcome<void> outcome;
    outcome.error = std::move(error);
    finish(completion_, std::move(outcome), source_->bridge());
  }

 private:
  [[nodiscard]] std::exception_ptr target_error() const {
    return make_sqlite_error(sqlite3_extended_errcode(target), sqlite3_errmsg(target));
  }

  [[nodiscard]] std::uint64_t interrupts() const noexcept {
    return source_->shared().interrupts.load(std::memory_order_relaxed);
  }

  std::shared_ptr<ConnectionCore> source_;
  std::uint64_t interrupts_ = 0;  // the source's interrupt() count when backup() was called
  BackupOptions options_;
  CompletionPtr<void> completion_;
  sqlite3_backup* backup_ = nullptr;
  bool done_ = false;
};

class StepJob final : public Job {
 public:
  explicit StepJob(std::shared_ptr<Backup> backup) : backup_(std::move(backup)) {}
  void run(Session& s) noexcept override { backup_->step(s, backup_); }
  void fail(std::exception_ptr error) noexcept override { backup_->complete(std::move(error)); }

 private:
  std::shared_ptr<Backup> backup_;
};

void Backup::queue_step(const std::shared_ptr<Backup>& self) {
  try {
    source_->submit_internal(std::make_unique<StepJob>(self));
  } catch (...) {
    complete(std::current_exception());
  }
}

// Runs on the target's worker: checks the target, hands its handle to the source's worker and
// waits there until the copy is finished.
class HoldJob final : public Job {
 public:
  HoldJob(std::shared_ptr<Backup> backup, std::shared_ptr<ConnectionCore> target,
          std::shared_ptr<ConnectionCore> source)
      : backup_(std::move(backup)), target_(std::move(target)), source_(std::move(source)) {}
  void run(Session& target) noexcept override {
    if (sqlite3_get_autocommit(target.db()) == 0) {
      std::exception_ptr error = std::make_exception_ptr(OperationalError("target is in transaction"));
      backup_->complete(std::move(error));
      return;
    }
    backup_->target = target.db();
    std::shared_ptr<Hold> hold = backup_->hold;
    // While held, a future of the target requested from the copying worker (say, in the
    // progress callback) would wait behind this very job: it fails at once instead.
    target_->set_held_by(&source_->worker());
    backup_->queue_step(backup_);
    backup_.reset();
    hold->wait();
    target_->set_held_by(nullptr);
  }
  void fail(std::exception_ptr error) noexcept override { backup_->complete(std::move(error)); }

 private:
  std::shared_ptr<Backup> backup_;
  // Both stay alive until the hold is lifted: held_by_ points into the source's worker.
  std::shared_ptr<ConnectionCore> target_;
  std::shared_ptr<ConnectionCore> source_;
};

}  // namespace

void start_backup(const std::shared_ptr<ConnectionCore>& source,
                  const std::shared_ptr<ConnectionCore>& target, sqlite3* raw_target, BackupOptions options,
                  PendingCompletion<void> completion) {
  // Kept on the heap for the whole backup; the Backup itself is made once admitted, since its end
  // settles the completion.
  CompletionPtr<void> owned = source->admit(completion, [&] { return std::move(completion).to_heap(); });
  if (!owned) return;
  auto backup = std::make_shared<Backup>(source, std::move(options), std::move(owned));
  if (target) {
    if (target == source) {
      backup->complete(
          std::make_exception_ptr(ProgrammingError("target cannot be the same connection instance")));
      return;
    }
    backup->hold = std::make_shared<Hold>();
    target->submit_internal(std::make_unique<HoldJob>(std::move(backup), target, source));
  } else {
    if (raw_target == nullptr) {
      backup->complete(std::make_exception_ptr(ProgrammingError("backup target is null")));
      return;
    }
    backup->target = raw_target;
    backup->queue_step(backup);
  }
}

}  // namespace uvsqlite::detail
