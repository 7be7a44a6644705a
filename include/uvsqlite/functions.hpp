#pragma once
/// @file functions.hpp
/// User-defined SQL functions, aggregates and collations (Connection::create_function,
/// create_aggregate, create_collation).
///
/// Thread: SQLite calls all of them on the connection's worker thread, synchronously, while a
/// statement runs. They must not wait on a future of the same connection (that submission
/// fails with ProgrammingError instead of deadlocking) and must not close it.

#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "uvsqlite/value.hpp"

namespace uvsqlite {

/// A scalar SQL function: its arguments in, its result out. An exception it throws becomes the
/// error of the statement that called it (OperationalError with the exception's message).
using ScalarFunction = std::function<Value(std::span<const Value> args)>;

/// The state of one aggregate computation (one group of one query), like the class passed to
/// Python's create_aggregate. An exception from step() or finalize() fails the statement.
class Aggregate {
 public:
  Aggregate() = default;
  Aggregate(const Aggregate&) = delete;
  Aggregate& operator=(const Aggregate&) = delete;
  virtual ~Aggregate() = default;
  /// Called once per row of the group.
  virtual void step(std::span<const Value> args) = 0;
  /// Called once at the end of the group: the aggregate's result.
  virtual Value finalize() = 0;
};

/// Makes a fresh Aggregate for each group.
using AggregateFactory = std::function<std::unique_ptr<Aggregate>()>;

/// A collation: negative, zero or positive as `a` sorts before, with or after `b`.
/// An exception it throws makes the two strings compare equal (SQLite has no way to fail a
/// comparison).
using Collation = std::function<int(std::string_view a, std::string_view b)>;

}  // namespace uvsqlite
