#pragma once
// The lock-free stacks of the job queue and the loop bridge: pushers link each node to the one
// pushed before it, and the single taker takes the whole stack in one exchange, newest first.

namespace uvsqlite::detail {

/// Relinks a chain taken whole from such a stack (newest first, through `next`) oldest first,
/// the order it was pushed in; returns the oldest node (null for an empty chain).
template <class T>
T* oldest_first(T* newest, T* T::*next) noexcept {
  T* oldest = nullptr;
  while (newest != nullptr) {
    T* older_than_this = newest->*next;
    newest->*next = oldest;
    oldest = newest;
    newest = older_than_this;
  }
  return oldest;
}

}  // namespace uvsqlite::detail
