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
  /// next call. A source's exception propagates to executemany().
  const Params* next() {
    if (auto* rows = std::get_if<std::vector<Params>>(&rows_)) {
      return index_ < rows->size() ? &(*rows)[index_++] : nullptr;
    }
    auto& source = std::get<ParamsSource>(rows_);
    if (!source) return nullptr;  // an empty std::function is an empty sequence
    // The row is made where it is kept: assigning source()'s result would move every value of
    // every row once more, and destroy the moved-from row.
    std::destroy_at(&current_);
    try {
      ::new (static_cast<void*>(&current_)) std::optional<Params>(source());
    } catch (...) {
      ::new (static_cast<void*>(&current_)) std::optional<Params>();
      throw;
    }
    return current_ ? &*current_ : nullptr;
  }

  /// Worker thread, when executemany() ends either way: a source and what it captured die
  /// here, before the completion (a vector's rows stay, to die where they were made).
  void finish() noexcept {
    if (auto* source = std::get_if<ParamsSource>(&rows_)) *source = nullptr;
    current_.reset();
  }

 private:
  std::variant<std::vector<Params>, ParamsSource> rows_;
  std::size_t index_ = 0;
  std::optional<Params> current_;  // the source's last row, bound while it runs
};

}  // namespace uvsqlite::detail
