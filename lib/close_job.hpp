#pragma once
// The job that closes a connection: Connection::close() and the background close of a dropped
// connection.

#include <memory>

#include "job.hpp"
#include "loop_bridge.hpp"
#include "uvsqlite/completion.hpp"

namespace uvsqlite::detail {

class Worker;

/// A close job. `completion` may be null (background close). For a loop form, the delivery
/// joins the worker thread (`worker`) before calling back. Closing a closed connection succeeds.
std::unique_ptr<Job> make_close_job(CompletionPtr<void> completion, std::shared_ptr<LoopBridge> bridge,
                                    std::shared_ptr<Worker> worker = nullptr);

}  // namespace uvsqlite::detail
