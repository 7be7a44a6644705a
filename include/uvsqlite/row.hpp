#pragma once
/// @file row.hpp
/// A result row that owns its values, with index and case-insensitive name access.
///
/// Thread-safety: a plain value type (column metadata is shared immutably between rows).

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "uvsqlite/value.hpp"

namespace uvsqlite {

/// One result column, an entry of Cursor::description().
struct Column {
  /// The name as sqlite3_column_name gives it.
  std::string name;
  /// The declared type of the table column the result comes from, where SQLite knows it.
  std::optional<std::string> declared_type;

  bool operator==(const Column&) const = default;
};

/// The columns of a result set, shared by all rows of one statement.
using Columns = std::vector<Column>;

namespace detail {
struct RowBlock;
class RowBuilder;
}  // namespace detail

/// A string-like column name (and not an index).
template <class S>
concept ColumnName = std::is_convertible_v<const S&, std::string_view> && !std::is_integral_v<S>;

/// A result row. It owns its values: it stays valid after the cursor moves on or closes.
/// Rows fetched together share one immutable block of values (up to 64 rows): copying a row is
/// cheap, and a row kept alive keeps its block alive.
class Row {
 public:
  /// An empty row with no columns.
  Row() = default;
  /// A row over shared column metadata; `values.size()` must equal `columns->size()`.
  Row(std::shared_ptr<const Columns> columns, std::vector<Value> values);
  Row(const Row&) = default;
  Row& operator=(const Row&) = default;
  /// A moved-from row is empty.
  Row(Row&& other) noexcept
      : block_(std::move(other.block_)),
        values_(std::exchange(other.values_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  /// A moved-from row is empty.
  Row& operator=(Row&& other) noexcept {
    block_ = std::move(other.block_);
    values_ = std::exchange(other.values_, nullptr);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }
  ~Row() = default;

  /// Number of values.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// The value at `index`. @throws InterfaceError when out of range.
  [[nodiscard]] const Value& operator[](std::size_t index) const;
  /// The value of the column named `name`, compared case-insensitively (ASCII) as sqlite3.Row
  /// does. @throws InterfaceError when no column has that name.
  template <class S>
  requires ColumnName<S>
  [[nodiscard]] const Value& operator[](const S& name) const { return by_name(std::string_view(name)); }

  /// The value at `index` as T (see Value::get).
  template <class T>
  [[nodiscard]] T get(std::size_t index) const {
    return (*this)[index].template get<T>();
  }
  /// The value of column `name` as T (see Value::get).
  template <class T, class S>
  requires ColumnName<S>
  [[nodiscard]] T get(const S& name) const { return by_name(std::string_view(name)).template get<T>(); }

  /// The whole row unpacked into typed values: `auto [id, name] = row.as<int, std::string>();`
  /// @throws InterfaceError when the row does not have exactly sizeof...(Ts) values.
  template <class... Ts>
  [[nodiscard]] std::tuple<Ts...> as() const {
    check_arity(sizeof...(Ts));
    return unpack<Ts...>(std::index_sequence_for<Ts...>{});
  }

  /// Column names, in order.
  [[nodiscard]] std::vector<std::string> keys() const;
  /// Column metadata (empty for a default-constructed row).
  [[nodiscard]] const Columns& columns() const noexcept;
  /// All values, in order.
  [[nodiscard]] std::span<const Value> values() const noexcept { return {values_, size_}; }

  [[nodiscard]] const Value* begin() const noexcept { return values_; }
  [[nodiscard]] const Value* end() const noexcept { return values_ + size_; }

  /// Equal when the column names and the values are equal, as sqlite3.Row compares.
  bool operator==(const Row& other) const;

 private:
  [[nodiscard]] const Value& by_name(std::string_view name) const;
  void check_arity(std::size_t n) const;
  template <class... Ts, std::size_t... I>
  std::tuple<Ts...> unpack(std::index_sequence<I...> /*unused*/) const {
    return std::tuple<Ts...>(values_[I].template get<Ts>()...);
  }

  friend class detail::RowBuilder;
  Row(std::shared_ptr<const detail::RowBlock> block, const Value* values, std::size_t size) noexcept
      : block_(std::move(block)), values_(values), size_(size) {}

  std::shared_ptr<const detail::RowBlock> block_;  // owns the values (and the column metadata)
  const Value* values_ = nullptr;                  // this row's values, inside block_
  std::size_t size_ = 0;
};

}  // namespace uvsqlite
