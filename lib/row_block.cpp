#include "row_block.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace uvsqlite::detail {

std::span<Value> RowBuilder::next_row(std::size_t width) {
  if (ends_.size() == block_rows_) seal();
  if (!block_) {
    block_ = spare_ ? std::move(spare_) : std::make_shared<RowBlock>();
    block_->columns = columns_;
    if (rows_.empty() && width <= RowBlock::kInline && block_->values.capacity() == 0) {
      // Maybe the only row: in place, no second allocation.
      block_->is_inline = true;
      ends_.push_back(width);
      return {block_->inline_values.data(), width};
    }
  } else if (block_->is_inline) {
    // A second row: the block needs room for many.
    block_->values.reserve(width * block_rows_);
    std::move(block_->inline_values.begin(), block_->inline_values.begin() + ends_.back(),
              std::back_inserter(block_->values));
    block_->is_inline = false;
  }
  auto& values = block_->values;
  if (values.capacity() == 0) values.reserve(width * block_rows_);
  const std::size_t begin = values.size();
  values.resize(begin + width);
  ends_.push_back(values.size());
  return {values.data() + begin, width};
}

void RowBuilder::seal() {
  if (!block_) return;
  // The block's values never move again: rows can point into them.
  const Value* base = block_->is_inline ? block_->inline_values.data() : block_->values.data();
  std::shared_ptr<const RowBlock> block = std::move(block_);
  std::size_t begin = 0;
  for (const std::size_t end : ends_) {
    rows_.push_back(Row(block, base + begin, end - begin));
    begin = end;
  }
  ends_.clear();
}

RowStorage RowStorage::prepare(std::size_t rows, std::size_t width) {
  RowStorage storage{std::make_shared<RowBlock>(), {}};
  storage.rows.reserve(std::min<std::size_t>(rows, 1024));
  if (rows > 1) storage.block->values.reserve(std::min(rows, RowBuilder::kRowsPerBlock) * width);
  return storage;
}

std::vector<Row> RowBuilder::take() {
  seal();
  return std::exchange(rows_, {});
}

}  // namespace uvsqlite::detail
