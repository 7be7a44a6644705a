#include "uvsqlite/row.hpp"

#include <strings.h>

#include <string>

namespace uvsqlite {

namespace {
const Columns kNoColumns;

bool same_name(std::string_view a, std::string_view b) {
  // sqlite3.Row compares keys case-insensitively for ASCII letters only.
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}
}  // namespace

const Value& Row::operator[](std::size_t index) const {
  if (index >= values_.size()) {
    throw InterfaceError("row index " + std::to_string(index) + " out of range (row has " +
                         std::to_string(values_.size()) + " values)");
  }
  return values_[index];
}

const Value& Row::by_name(std::string_view name) const {
  const Columns& cols = columns();
  for (std::size_t i = 0; i < cols.size() && i < values_.size(); ++i) {
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

const Columns& Row::columns() const noexcept { return columns_ ? *columns_ : kNoColumns; }

bool Row::operator==(const Row& other) const {
  if (values_ != other.values_) return false;
  const Columns& a = columns();
  const Columns& b = other.columns();
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name) return false;
  }
  return true;
}

void Row::check_arity(std::size_t n) const {
  if (n != values_.size()) {
    throw InterfaceError("cannot unpack a row of " + std::to_string(values_.size()) + " values into " +
                         std::to_string(n));
  }
}

}  // namespace uvsqlite
