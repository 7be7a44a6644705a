#pragma once
// Rows made together share one block: a fetch of N rows allocates a block per 64 rows instead of
// a vector per row. Rows are made on the worker and most often freed on the loop thread; a free
// of another thread's allocation takes that thread's allocator arena lock, and one per row made
// the two threads fight for it (and sleep on it) during iteration. A kept row keeps the values of
// its block (at most 64 rows) alive.

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "uvsqlite/row.hpp"
#include "uvsqlite/value.hpp"

namespace uvsqlite::detail {

/// The shared storage of a block of rows; immutable once rows point into it. A lone short row
/// (a point query) keeps its values inline, so that it costs a single allocation.
struct RowBlock {
  static constexpr std::size_t kInline = 4;
  std::shared_ptr<const Columns> columns;
  std::vector<Value> values;
  std::array<Value, kInline> inline_values;
  bool is_inline = false;
};

/// Memory for a small result, allocated by the thread that submits the query and filled by the
/// worker: a one-row answer (a point query) then costs the worker no allocation, and the
/// submitting thread frees what it allocated (the allocator's per-thread caches stay warm on
/// both sides).
struct RowStorage {
  std::shared_ptr<RowBlock> block;  // an empty block, for the first rows
  std::vector<Row> rows;            // room for one row

  /// Submitting thread: room for `rows` rows of `width` values (the width when known, else 0).
  static RowStorage prepare(std::size_t rows = 1, std::size_t width = 0);
};

/// Collects the rows of one result set into blocks. Worker thread.
class RowBuilder {
 public:
  static constexpr std::size_t kRowsPerBlock = 64;

  /// `most` is how many rows the caller asked for (fetchmany's size): a block is sized for no
  /// more, since a kept row keeps its whole block.
  explicit RowBuilder(std::shared_ptr<const Columns> columns, RowStorage storage = {},
                      std::size_t most = kRowsPerBlock) noexcept
      : columns_(std::move(columns)),
        spare_(std::move(storage.block)),
        rows_(std::move(storage.rows)),
        block_rows_(most == 0 ? 1 : (most < kRowsPerBlock ? most : kRowsPerBlock)) {}

  /// Room for the next row's `width` values, to be filled before the next call.
  std::span<Value> next_row(std::size_t width);
  /// Rows made so far.
  [[nodiscard]] std::size_t size() const noexcept { return rows_.size() + ends_.size(); }
  /// Every row made, in order; the builder is empty afterwards.
  std::vector<Row> take();

 private:
  void seal();

  std::shared_ptr<const Columns> columns_;
  std::shared_ptr<RowBlock> block_;  // the block being filled, or null
  std::shared_ptr<RowBlock> spare_;  // an empty block to fill first, or null
  std::vector<std::size_t> ends_;    // end of each of its rows
  std::vector<Row> rows_;
  std::size_t block_rows_;  // rows a block has room for
};

}  // namespace uvsqlite::detail
