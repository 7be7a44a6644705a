#pragma once
// executemany()'s rows, whichever way the caller gave them: a vector built beforehand, or a
// ParamsSource that makes each row on the worker. The worker-side loop is written once, over
// next().

#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "uvsqlite/params.hpp"

namespace uvsqlite::detail {

class ParamsSequence {
 public:
  explicit ParamsSequence(std::vector<Params> rows) noexcept : rows_(std::move(rows)) {}
  explicit ParamsSequence(ParamsSource source) noexcept : rows_(std::move(source)) {}

  /// Worker thread: the next row, or nullptr after the last. The pointer stays valid until the
  /// call after the next (the statement still points into a row while its successor is made). A
  /// source's exception propagates to executemany().
  const Params* next() {
    if (auto* rows = std::get_if<std::vector<Params>>(&rows_)) {
      return index_ < rows->size() ? &(*rows)[index_++] : nullptr;
    }
    auto& source = std::get<ParamsSource>(rows_);
    if (!source) return nullptr;  // an empty std::function is an empty sequence
    // The row is made where it is kept (assigning source()'s result would move every value of
    // every row once more), in the slot the row before the last one used: the last one stays,
    // since the statement points into it until the new row is bound.
    current_ ^= 1U;
    std::optional<Params>& slot = made_[current_];
    std::destroy_at(&slot);
    try {
      ::new (static_cast<void*>(&slot)) std::optional<Params>(source());  // no move: made in place
    } catch (...) {
      std::construct_at(&slot);
      throw;
    }
    return slot ? &*slot : nullptr;
  }

  /// Worker thread, when executemany() ends either way (after the statement let go of the
  /// rows): a source, what it captured and the rows it made die here, before the completion (a
  /// vector's rows stay, to die where they were made).
  void finish() noexcept {
    if (auto* source = std::get_if<ParamsSource>(&rows_)) *source = nullptr;
    for (auto& row : made_) row.reset();
  }

 private:
  std::variant<std::vector<Params>, ParamsSource> rows_;
  std::size_t index_ = 0;
  std::optional<Params> made_[2];  // the source's last two rows
  unsigned current_ = 0;           // which of them is the last
};

}  // namespace uvsqlite::detail
