#include "uvsqlite/row.hpp"

#include <strings.h>

#include <algorithm>
#include <string>

#include "row_block.hpp"

namespace uvsqlite {

namespace {
const Columns kNoColumns;

bool same_name(std::string_view a, std::string_view b) {
  // sqlite3.Row compares keys case-insensitively for ASCII letters only.
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}
}  // namespace

Row::Row(std::shared_ptr<const Columns> columns, std::vector<Value> values) {
  auto block = std::make_shared<detail::RowBlock>();
  block->columns = std::move(columns);
  block->values = std::move(values);
  values_ = block->values.data();
  size_ = block->values.size();
  block_ = std::move(block);
}

const Value& Row::operator[](std::size_t index) const {
  if (index >= size_) {
    throw InterfaceError("row index " + std::to_string(index) + " out of range (row has " +
                         std::to_string(size_) + " values)");
  }
  return values_[index];
}

const Value& Row::by_name(std::string_view name) const {
  const Columns& cols = columns();
  for (std::size_t i = 0; i < cols.size() && i < size_; ++i) {
    if (same_name(cols[i].name, name)) return values_[i];
  }
  throw InterfaceError("No item with that key: " + std::string(name));
}

std::vector<std::string> Row::keys() const {
  std::vector<std::string> out;
  out.reserve(columns().size());
  for (const auto& c : columns()) out.push_back(c.name);
  return out;
}

const Columns& Row::columns() const noexcept {
  return block_ && block_->columns ? *block_->columns : kNoColumns;
}

bool Row::operator==(const Row& other) const {
  if (!std::equal(begin(), end(), other.begin(), other.end())) return false;
  const Columns& a = columns();
  const Columns& b = other.columns();
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name) return false;
  }
  return true;
}

void Row::check_arity(std::size_t n) const {
  if (n != size_) {
    throw InterfaceError("cannot unpack a row of " + std::to_string(size_) + " values into " +
                         std::to_string(n));
  }
}

}  // namespace uvsqlite
