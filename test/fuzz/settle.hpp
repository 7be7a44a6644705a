#pragma once
// The end of a fuzz input: every connection it opened must be gone, threads and loop handles
// included, before libFuzzer checks for leaks (a connection dropped without close() closes in
// the background, and memory still in use there is not a leak).

#include <uv.h>

#include <cstddef>

namespace uvsqlite::fuzz {

/// The loop every input of a target runs on (made once: its handles must all be closed again
/// at the end of each input, see settle()).
uv_loop_t* fuzz_loop();

/// Threads of this process (from /proc/self/task).
std::size_t thread_count();

/// Runs `loop` until it has no open handle and the process is back to `threads` threads, for at
/// most 10 s. Returns false when that did not happen (a handle or a worker thread that outlives
/// its connection: a finding).
bool settle(uv_loop_t* loop, std::size_t threads);

}  // namespace uvsqlite::fuzz
