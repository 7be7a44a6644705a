// The CPU presence count that makes a worker sleep rather than spin on a CPU another busy thread
// of the process occupies, and the spin's give-up predicate it drives. Internal pieces (lib/):
// their effect on round trips is measured by the benchmarks, not by timed tests.
#include <gtest/gtest.h>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include <atomic>
#include <cstdint>
#include <thread>

#include "cpu_presence.hpp"
#include "spin.hpp"

namespace uvsqlite::detail {
namespace {

#if defined(__linux__)
/// Pins the calling thread to the CPU it runs on, for the test's lifetime, so that presences
/// counted one after another are counted on one CPU; restores the old mask after.
class PinnedHere {
 public:
  PinnedHere() {
    pthread_getaffinity_np(pthread_self(), sizeof old_, &old_);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    pinned_ = pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
  }
  PinnedHere(const PinnedHere&) = delete;
  PinnedHere& operator=(const PinnedHere&) = delete;
  ~PinnedHere() { pthread_setaffinity_np(pthread_self(), sizeof old_, &old_); }
  [[nodiscard]] bool pinned() const { return pinned_; }
  /// The CPUs the thread could run on before it was pinned.
  [[nodiscard]] cpu_set_t allowed() const { return old_; }

 private:
  cpu_set_t old_{};
  bool pinned_ = false;
};

TEST(CpuPresence, AThreadAloneOnItsCpuIsNotCrowded) {
  const PinnedHere pin;
  ASSERT_TRUE(pin.pinned());
  CpuPresence me;
  EXPECT_FALSE(me.crowded());
}

TEST(CpuPresence, AnotherPresenceOnTheSameCpuCrowdsIt) {
  const PinnedHere pin;
  ASSERT_TRUE(pin.pinned());
  CpuPresence me;
  {
    const CpuPresence other;
    EXPECT_TRUE(me.crowded());
  }
  EXPECT_FALSE(me.crowded()) << "a presence that ended still counts";
}

TEST(CpuPresence, APresenceThatLeftNoLongerCountsAndCountsAgainOnceEntered) {
  const PinnedHere pin;
  ASSERT_TRUE(pin.pinned());
  CpuPresence me;
  CpuPresence sleeper;
  EXPECT_TRUE(me.crowded());
  sleeper.leave();
  EXPECT_FALSE(me.crowded());
  EXPECT_FALSE(sleeper.crowded()) << "a thread that left is never crowded itself";
  sleeper.leave();  // twice is harmless
  EXPECT_FALSE(me.crowded());
  sleeper.enter();
  EXPECT_TRUE(me.crowded());
  sleeper.enter();  // no double count
  sleeper.leave();
  EXPECT_FALSE(me.crowded());
}

TEST(CpuPresence, AThreadPinnedToAnotherCpuDoesNotCrowd) {
  const PinnedHere pin;
  ASSERT_TRUE(pin.pinned());
  CpuPresence me;
  const int mine = sched_getcpu();
  // The CPUs this process may use, but this thread's.
  cpu_set_t others = pin.allowed();
  CPU_CLR(mine, &others);
  if (CPU_COUNT(&others) == 0) GTEST_SKIP() << "no other CPU to run on";
  std::atomic<int> stage{0};  // 1: the other thread is counted (or -1: it could not be pinned)
  std::thread elsewhere([&] {
    if (pthread_setaffinity_np(pthread_self(), sizeof others, &others) != 0) {
      stage = -1;
      return;
    }
    const CpuPresence there;
    stage = 1;
    while (stage.load() != 2) std::this_thread::yield();
  });
  while (stage.load() == 0) std::this_thread::yield();
  if (stage.load() == 1) {
    EXPECT_FALSE(me.crowded());
    stage = 2;
  }
  elsewhere.join();
  EXPECT_NE(stage.load(), -1) << "could not pin a thread to another CPU";
}
#endif

TEST(SpinUntil, ReturnsAtOnceWhenToldToGiveUp) {
  const SpinSlot slot;
  if (!slot) GTEST_SKIP() << "every spinning slot is taken";
  int looks = 0;
  // A deadline an hour away: only the give-up predicate can end this spin.
  const bool ready = spin_until(
      slot, spin_clock() + 3'600'000'000'000ULL, [&] { return ++looks > 1'000'000; }, [] { return true; });
  EXPECT_FALSE(ready);
  EXPECT_EQ(looks, 1) << "the spin looked again after it was told to give up";
}

TEST(SpinUntil, AGiveUpLaterInTheSpinEndsItAtTheNextLook) {
  const SpinSlot slot;
  if (!slot) GTEST_SKIP() << "every spinning slot is taken";
  int asked = 0;
  int looks = 0;
  const bool ready = spin_until(
      slot, spin_clock() + 3'600'000'000'000ULL, [&] { return ++looks > 1'000'000; },
      [&] { return ++asked == 3; });
  EXPECT_FALSE(ready);
  EXPECT_EQ(asked, 3);
  // Asked once before spinning, then once per 16 looks.
  EXPECT_EQ(looks, 1 + 2 * 16 + 1);
}

TEST(SpinUntil, ReadyWinsOverGivingUp) {
  const SpinSlot slot;
  const bool ready = spin_until(
      slot, spin_clock(), [] { return true; }, [] { return true; });
  EXPECT_TRUE(ready);
}

}  // namespace
}  // namespace uvsqlite::detail
