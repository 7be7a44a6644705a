// One allocation per operation: a completion made in the initiating call's frame moves into its
// job's own block (lib/typed_job.hpp); one that cannot move (a handler whose move may throw)
// lives on the heap and is adopted; one that must outlive the call moves to the heap. Internal
// pieces (lib/) first, then the public forms that rely on them.
#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/test_support.hpp"
#include "typed_job.hpp"

namespace uvsqlite::detail {
namespace {

// Records where it was when it was settled.
class Probe final : public Completion<int> {
 public:
  explicit Probe(const void** settled_at) noexcept : Completion<int>(false), settled_at_(settled_at) {}
  Probe(Probe&&) noexcept = default;
  void settle(Outcome<int>&& /*outcome*/) noexcept override { *settled_at_ = this; }
  void deliver() override {}

 private:
  const void** settled_at_;
};

const auto kWork = [](Session& /*session*/) { return 1; };
using ProbeJob = TypedJob<int, std::decay_t<decltype(kWork)>>;

const void* tail_of(const std::unique_ptr<Job>& job) {
  return reinterpret_cast<const char*>(static_cast<const ProbeJob*>(job.get())) + ProbeJob::tail_offset();
}

TEST(PendingCompletionTest, AFramedCompletionMovesIntoItsJobsOwnBlock) {
  const void* settled_at = nullptr;
  Probe framed(&settled_at);
  auto pending = PendingCompletion<int>::framed(framed);
  EXPECT_EQ(pending.footprint(), sizeof(Probe));
  std::unique_ptr<Job> job = ProbeJob::make(pending, nullptr, kWork);
  EXPECT_FALSE(pending) << "the job took the completion";
  job->fail(std::make_exception_ptr(std::runtime_error("never ran")));
  EXPECT_EQ(settled_at, tail_of(job)) << "the completion is not right after the job";
}

TEST(PendingCompletionTest, AnOwnedCompletionIsAdoptedWhereItIs) {
  const void* settled_at = nullptr;
  auto owned = std::make_unique<Probe>(&settled_at);
  const void* heap = owned.get();
  PendingCompletion<int> pending{CompletionPtr<int>(std::move(owned))};
  EXPECT_EQ(pending.footprint(), 0U);
  std::unique_ptr<Job> job = ProbeJob::make(pending, nullptr, kWork);
  job->fail(std::make_exception_ptr(std::runtime_error("never ran")));
  EXPECT_EQ(settled_at, heap);
}

TEST(PendingCompletionTest, AFramedCompletionKeptLongerMovesToTheHeap) {
  const void* settled_at = nullptr;
  Probe framed(&settled_at);
  CompletionPtr<int> kept = PendingCompletion<int>::framed(framed).to_heap();
  kept->settle(Outcome<int>{});
  EXPECT_EQ(settled_at, kept.get());
  EXPECT_NE(settled_at, &framed);
}

// Counts its destructions, moved-from ones included.
class Counted final : public Completion<int> {
 public:
  explicit Counted(int* destroyed) noexcept : Completion<int>(false), destroyed_(destroyed) {}
  Counted(Counted&&) noexcept = default;
  ~Counted() override { ++*destroyed_; }
  void settle(Outcome<int>&& /*outcome*/) noexcept override {}
  void deliver() override {}

 private:
  int* destroyed_;
};

TEST(PendingCompletionTest, TheMovedInCompletionAndItsLeftoverAreEachDestroyedOnce) {
  int destroyed = 0;
  {
    Counted framed(&destroyed);
    auto pending = PendingCompletion<int>::framed(framed);
    std::unique_ptr<Job> job = TypedJob<int, std::decay_t<decltype(kWork)>>::make(pending, nullptr, kWork);
    EXPECT_EQ(destroyed, 0);
    job.reset();
    EXPECT_EQ(destroyed, 1) << "the job destroys the completion in its block";
  }
  EXPECT_EQ(destroyed, 2) << "the frame destroys what the move left behind";
}

// Work whose copy throws: making its job fails before the completion is touched.
struct ThrowsOnCopy {
  ThrowsOnCopy() = default;
  ThrowsOnCopy(const ThrowsOnCopy& /*other*/) { throw std::runtime_error("no copy"); }
  ThrowsOnCopy(ThrowsOnCopy&&) noexcept = default;
  int operator()(Session& /*session*/) const { return 1; }
};

TEST(PendingCompletionTest, AJobThatCannotBeMadeLeavesTheCompletionToItsCaller) {
  int destroyed = 0;
  {
    Counted framed(&destroyed);
    auto pending = PendingCompletion<int>::framed(framed);
    const ThrowsOnCopy work;
    EXPECT_THROW((void)(TypedJob<int, ThrowsOnCopy>::make(pending, nullptr, work)), std::runtime_error);
    EXPECT_TRUE(pending) << "still the caller's";
    EXPECT_EQ(pending.get(), &framed);
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 1);
}

// A handler whose move may throw cannot be moved into a job after the fact.
struct MayThrowOnMove {
  explicit MayThrowOnMove(std::vector<int>* calls) : calls(calls) {}
  MayThrowOnMove(const MayThrowOnMove&) = default;
  MayThrowOnMove(MayThrowOnMove&& other) noexcept(false) : calls(other.calls) {}
  void operator()(std::exception_ptr error, Cursor /*cursor*/) const { calls->push_back(error ? -1 : 1); }
  std::vector<int>* calls;
};

static_assert(!relocatable_v<HandlerCompletion<Cursor, MayThrowOnMove>>);
static_assert(relocatable_v<FutureCompletion<Cursor>>);

}  // namespace
}  // namespace uvsqlite::detail

namespace uvsqlite::test {
namespace {

using PendingCompletionForms = LoopTest;

// Each form still completes once, in order, whether its completion moved into the job or not.
TEST_F(PendingCompletionForms, EveryFormCompletesWhereverItsCompletionLives) {
  auto db = open();
  std::vector<int> calls;
  db.execute("SELECT 1", detail::MayThrowOnMove(&calls));                                      // on the heap
  db.execute("SELECT 1", [&](std::exception_ptr e, Cursor) { calls.push_back(e ? -2 : 2); });  // moved in
  db.execute("SELECT nothing FROM nowhere",
             [&](std::exception_ptr e, Cursor) { calls.push_back(e ? -3 : 3); });
  auto future = db.execute_fetchall("SELECT 4");
  ASSERT_TRUE(run_until([&] { return calls.size() == 3; }));
  EXPECT_EQ(calls, (std::vector<int>{1, 2, -3}));
  EXPECT_EQ(future.get().at(0).get<int>(0), 4);
  close(db);
}

}  // namespace
}  // namespace uvsqlite::test
