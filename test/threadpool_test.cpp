// uvsqlite never uses libuv's threadpool: with 8 connections busy on long queries (more than the
// default 4 pool threads), uv_fs_stat and uv_queue_work on the same loop still complete promptly.
#include <uv.h>

#include <chrono>
#include <exception>
#include <future>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kEndlessQuery =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c";

using ThreadpoolTest = LoopTest;

TEST_F(ThreadpoolTest, FsAndQueueWorkStayPromptWhileEightConnectionsAreBusy) {
  constexpr int kConnections = 8;
  std::vector<Connection> dbs;
  std::vector<std::exception_ptr> errors(kConnections);
  int finished = 0;
  for (int i = 0; i < kConnections; ++i) {
    auto db = open();
    auto started = db.execute_fetchall("SELECT 1");
    db.execute_fetchall(kEndlessQuery, [&, i](std::exception_ptr e, std::vector<Row>) {
      errors[i] = e;
      ++finished;
    });
    started.get();  // the worker is now on the endless query
    dbs.push_back(db);
  }

  struct Probe {
    Clock::time_point start;
    Clock::time_point stat_done{};
    Clock::time_point work_done{};
    bool stat_ok = false;
    bool work_ran = false;
    bool stat_finished = false;
    bool work_finished = false;
  } probe;
  uv_fs_t stat_req{};
  uv_work_t work_req{};
  stat_req.data = &probe;
  work_req.data = &probe;

  probe.start = Clock::now();
  ASSERT_EQ(uv_fs_stat(&loop_, &stat_req, "/",
                       [](uv_fs_t* req) {
                         auto* p = static_cast<Probe*>(req->data);
                         p->stat_ok = req->result == 0;
                         p->stat_done = Clock::now();
                         p->stat_finished = true;
                         uv_fs_req_cleanup(req);
                       }),
            0);
  ASSERT_EQ(uv_queue_work(
                &loop_, &work_req, [](uv_work_t* req) { static_cast<Probe*>(req->data)->work_ran = true; },
                [](uv_work_t* req, int status) {
                  auto* p = static_cast<Probe*>(req->data);
                  EXPECT_EQ(status, 0);
                  p->work_done = Clock::now();
                  p->work_finished = true;
                }),
            0);

  const bool prompt = run_until([&] { return probe.stat_finished && probe.work_finished; }, 3s);
  EXPECT_TRUE(prompt) << "libuv's threadpool is blocked while the connections are busy";
  if (probe.stat_finished) {
    EXPECT_TRUE(probe.stat_ok);
    EXPECT_LT(probe.stat_done - probe.start, 500ms);
  }
  if (probe.work_finished) {
    EXPECT_TRUE(probe.work_ran);
    EXPECT_LT(probe.work_done - probe.start, 500ms);
  }
  EXPECT_EQ(finished, 0) << "a long query ended before it was interrupted";

  // Interrupt every query (repeatedly: an interrupt before a statement starts is lost), close all.
  const bool interrupted = run_until(
      [&] {
        for (auto& db : dbs) db.interrupt();
        return finished == kConnections;
      },
      10s);
  ASSERT_TRUE(interrupted) << finished << " of " << kConnections << " queries interrupted";
  for (auto& e : errors) {
    ASSERT_TRUE(e) << "a long query succeeded";
    EXPECT_THROW(std::rethrow_exception(e), OperationalError);
  }
  for (auto& db : dbs) close(db);
  // The probes must have finished before TearDown closes the loop (they use pool threads).
  if (!prompt) run_until([&] { return probe.stat_finished && probe.work_finished; }, 10s);
}

}  // namespace
}  // namespace uvsqlite::test
