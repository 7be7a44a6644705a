#include "functions.hpp"

#include <exception>
#include <memory>
#include <new>
#include <string_view>
#include <utility>

#include "sqlite_value.hpp"
#include "uvsqlite/errors.hpp"

namespace uvsqlite::detail {

namespace {

template <class T>
void destroy(void* p) {
  delete static_cast<T*>(p);
}

// An exception escaping user code becomes the statement's error, with its message; running out
// of memory (reading the arguments, or in the function) is SQLITE_NOMEM, as CPython makes a
// MemoryError.
void report(sqlite3_context* ctx, const char* fallback) noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  } catch (...) {
    sqlite3_result_error(ctx, fallback, -1);
  }
}

void check_name(const std::string& name) {
  if (name.find('\0') != std::string::npos) throw ProgrammingError("the name contains a null character");
}

void call_scalar(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  auto* fn = static_cast<ScalarFunction*>(sqlite3_user_data(ctx));
  try {
    const std::vector<Value> args = values_from(argc, argv);
    set_result(ctx, (*fn)(args));
  } catch (...) {
    report(ctx, "user-defined function raised exception");
  }
}

// The aggregate context holds a pointer to the group's Aggregate, made at its first row.
Aggregate** aggregate_slot(sqlite3_context* ctx, bool create) {
  // sizeof the pointer is meant: the context holds a pointer, not an Aggregate.
  const int bytes = create ? static_cast<int>(sizeof(Aggregate*)) : 0;  // NOLINT(bugprone-sizeof-expression)
  return static_cast<Aggregate**>(sqlite3_aggregate_context(ctx, bytes));
}

void call_step(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  Aggregate** slot = aggregate_slot(ctx, true);
  if (slot == nullptr) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  try {
    if (*slot == nullptr) {
      auto* factory = static_cast<AggregateFactory*>(sqlite3_user_data(ctx));
      *slot = (*factory)().release();
      if (*slot == nullptr) throw ProgrammingError("the aggregate factory returned no aggregate");
    }
    const std::vector<Value> args = values_from(argc, argv);
    (*slot)->step(args);
  } catch (...) {
    report(ctx, "user-defined aggregate's 'step' method raised error");
  }
}

void call_final(sqlite3_context* ctx) noexcept {
  Aggregate** slot = aggregate_slot(ctx, false);
  std::unique_ptr<Aggregate> aggregate(slot != nullptr ? *slot : nullptr);
  if (slot != nullptr) *slot = nullptr;
  try {
    if (!aggregate) {  // a group with no rows
      auto* factory = static_cast<AggregateFactory*>(sqlite3_user_data(ctx));
      aggregate = (*factory)();
      if (!aggregate) throw ProgrammingError("the aggregate factory returned no aggregate");
    }
    set_result(ctx, aggregate->finalize());
  } catch (...) {
    report(ctx, "user-defined aggregate's 'finalize' method raised error");
  }
}

int call_collation(void* user, int a_len, const void* a, int b_len, const void* b) noexcept {
  auto* fn = static_cast<Collation*>(user);
  try {
    const int r = (*fn)(std::string_view(static_cast<const char*>(a), static_cast<std::size_t>(a_len)),
                        std::string_view(static_cast<const char*>(b), static_cast<std::size_t>(b_len)));
    return r < 0 ? -1 : (r > 0 ? 1 : 0);
  } catch (...) {
    return 0;
  }
}

}  // namespace

void create_function(Session& s, const std::string& name, int num_params, ScalarFunction fn,
                     bool deterministic) {
  check_name(name);
  const int flags = SQLITE_UTF8 | (deterministic ? SQLITE_DETERMINISTIC : 0);
  int rc = SQLITE_OK;
  if (!fn) {
    rc = sqlite3_create_function_v2(s.db(), name.c_str(), num_params, flags, nullptr, nullptr, nullptr,
                                    nullptr, nullptr);
  } else {
    // On failure SQLite itself calls the destructor.
    rc =
        sqlite3_create_function_v2(s.db(), name.c_str(), num_params, flags, new ScalarFunction(std::move(fn)),
                                   &call_scalar, nullptr, nullptr, &destroy<ScalarFunction>);
  }
  s.check(rc);
}

void create_aggregate(Session& s, const std::string& name, int num_params, AggregateFactory factory) {
  check_name(name);
  int rc = SQLITE_OK;
  if (!factory) {
    rc = sqlite3_create_function_v2(s.db(), name.c_str(), num_params, SQLITE_UTF8, nullptr, nullptr, nullptr,
                                    nullptr, nullptr);
  } else {
    rc = sqlite3_create_function_v2(s.db(), name.c_str(), num_params, SQLITE_UTF8,
                                    new AggregateFactory(std::move(factory)), nullptr, &call_step,
                                    &call_final, &destroy<AggregateFactory>);
  }
  s.check(rc);
}

void create_collation(Session& s, const std::string& name, Collation fn) {
  check_name(name);
  int rc = SQLITE_OK;
  if (!fn) {
    rc = sqlite3_create_collation_v2(s.db(), name.c_str(), SQLITE_UTF8, nullptr, nullptr, nullptr);
  } else {
    auto holder = std::make_unique<Collation>(std::move(fn));
    rc = sqlite3_create_collation_v2(s.db(), name.c_str(), SQLITE_UTF8, holder.get(), &call_collation,
                                     &destroy<Collation>);
    // Unlike functions, SQLite does not call the destructor when registering a collation fails.
    if (rc == SQLITE_OK) (void)holder.release();
  }
  s.check(rc);
}

}  // namespace uvsqlite::detail
