// A program that returns from main with a connection never closed and a long query still running
// must exit promptly with status 0 (no worker thread may hold up or crash process exit).
#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "support/test_support.hpp"

#ifndef UVSQLITE_NEVER_CLOSE_EXE
#error "UVSQLITE_NEVER_CLOSE_EXE must name the never_close helper program"
#endif

namespace uvsqlite::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct RunResult {
  bool exited_in_time = false;
  int status = 0;
  std::string output;
  Clock::duration elapsed{};
};

/// Runs the helper with `arg`, waits up to `limit`, kills it if it is still running.
RunResult run_never_close(const std::string& arg, std::chrono::milliseconds limit) {
  RunResult result;
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return result;
  }
  const auto start = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    execl(UVSQLITE_NEVER_CLOSE_EXE, UVSQLITE_NEVER_CLOSE_EXE, arg.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(pipe_fds[1]);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ADD_FAILURE() << "fork failed";
    return result;
  }
  fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
  auto drain = [&] {
    char buf[256];
    ssize_t n = 0;
    while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0)
      result.output.append(buf, static_cast<std::size_t>(n));
  };
  for (;;) {
    drain();
    const pid_t done = waitpid(pid, &result.status, WNOHANG);
    if (done == pid) {
      result.exited_in_time = true;
      break;
    }
    if (Clock::now() - start > limit) {
      kill(pid, SIGKILL);
      waitpid(pid, &result.status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  result.elapsed = Clock::now() - start;
  drain();
  ::close(pipe_fds[0]);
  return result;
}

void expect_clean_exit(const RunResult& r) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.elapsed).count();
  EXPECT_TRUE(r.exited_in_time) << "the program was still running after " << ms << " ms (killed)";
  if (r.exited_in_time) {
    EXPECT_TRUE(WIFEXITED(r.status)) << "terminated by signal "
                                     << (WIFSIGNALED(r.status) ? WTERMSIG(r.status) : 0);
    if (WIFEXITED(r.status)) {
      EXPECT_EQ(WEXITSTATUS(r.status), 0);
    }
  }
  EXPECT_NE(r.output.find("leaving main with the connection open"), std::string::npos) << r.output;
}

TEST(ProcessExitTest, NeverClosedFileConnectionExitsWithStatusZero) {
  TempDir dir;
  expect_clean_exit(run_never_close(dir.file("never_closed.db"), 5s));
}

TEST(ProcessExitTest, NeverClosedMemoryConnectionExitsWithStatusZero) {
  expect_clean_exit(run_never_close(":memory:", 5s));
}

}  // namespace
}  // namespace uvsqlite::test
