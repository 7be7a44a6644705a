#include "close_job.hpp"

#include "session.hpp"
#include "worker.hpp"

namespace uvsqlite::detail {

namespace {

// Joins the worker on the loop thread, then hands over to the user's completion: by the time
// close()'s callback runs, the thread is gone.
class ReapThenDeliver final : public Delivery {
 public:
  ReapThenDeliver(CompletionPtr<void> inner, std::shared_ptr<Worker> worker)
      : inner_(std::move(inner)), worker_(std::move(worker)) {}
  void deliver() override {
    if (worker_) worker_->reap();
    inner_->deliver();
  }

 private:
  CompletionPtr<void> inner_;
  std::shared_ptr<Worker> worker_;
};

class CloseJob final : public Job {
 public:
  CloseJob(CompletionPtr<void> completion, std::shared_ptr<LoopBridge> bridge, std::shared_ptr<Worker> worker)
      : completion_(std::move(completion)), bridge_(std::move(bridge)), worker_(std::move(worker)) {}

  void run(Session& session) noexcept override {
    session.close();
    complete(std::move(worker_));
  }

  // Closing twice is fine: a close that finds the connection closed succeeds.
  void fail(std::exception_ptr /*error*/) noexcept override { complete(nullptr); }

 private:
  void complete(std::shared_ptr<Worker> reap) noexcept {
    if (!completion_) return;
    completion_->settle(Outcome<void>{});
    if (!completion_->on_loop()) {
      completion_.reset();
      return;
    }
    try {
      bridge_->post(std::make_unique<ReapThenDeliver>(std::move(completion_), std::move(reap)));
    } catch (...) {
      // No memory for the wrapper: deliver without joining (the thread is reaped at drop).
      bridge_->post(std::move(completion_));
    }
  }

  CompletionPtr<void> completion_;
  std::shared_ptr<LoopBridge> bridge_;
  std::shared_ptr<Worker> worker_;
};

}  // namespace

std::unique_ptr<Job> make_close_job(CompletionPtr<void> completion, std::shared_ptr<LoopBridge> bridge,
                                    std::shared_ptr<Worker> worker) {
  return std::make_unique<CloseJob>(std::move(completion), std::move(bridge), std::move(worker));
}

}  // namespace uvsqlite::detail
