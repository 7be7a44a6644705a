// main of uvsqlite_oom_tests: SQLite takes a custom allocator only before it initializes, so the
// failing one goes in before GoogleTest (or anything else) can touch SQLite.
#include <gtest/gtest.h>

#include <cstdio>

#include "failing_allocator.hpp"

int main(int argc, char** argv) {
  if (!uvsqlite::test::oom::install()) {
    std::fprintf(stderr, "SQLite was initialized before main: cannot install the failing allocator\n");
    return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
