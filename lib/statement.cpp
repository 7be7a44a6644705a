#include "statement.hpp"

#include <cmath>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "uvsqlite/errors.hpp"
#include "uvsqlite/options.hpp"

namespace uvsqlite::detail {

namespace {
[[noreturn]] void raise_from(sqlite3* db) {
  throw_sqlite_error(sqlite3_extended_errcode(db), sqlite3_errmsg(db));
}

// sqlite3_column_text returns NULL for a TEXT value it could not convert to UTF-8 (the text of a
// UTF-16 database) for want of memory, while sqlite3_column_bytes may then succeed; the
// statement's next step fails with SQLITE_NOMEM anyway. CPython raises MemoryError at the read.
// (A blob that cannot be expanded reads as empty and the next step fails: no row escapes.)
[[noreturn]] void raise_nomem() { throw_sqlite_error(SQLITE_NOMEM, sqlite3_errstr(SQLITE_NOMEM)); }
}  // namespace

std::unique_ptr<Statement> Statement::prepare(sqlite3* db, std::string sql, bool persistent) {
  if (sql.find('\0') != std::string::npos) throw ProgrammingError("the query contains a null character");
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()) + 1,
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
  if (rc != SQLITE_OK) raise_from(db);
  std::unique_ptr<Statement> out(new Statement(std::move(sql), stmt));
  if (tail != nullptr) {
    const std::size_t offset = static_cast<std::size_t>(tail - out->sql_.data());
    if (offset < out->sql_.size() &&
        !skip_space_and_comments(std::string_view(out->sql_).substr(offset)).empty()) {
      throw ProgrammingError("You can only execute one statement at a time.");
    }
  }
  return out;
}

Statement::Statement(std::string sql, sqlite3_stmt* stmt)
    : sql_(std::move(sql)), stmt_(stmt), kind_(statement_kind(sql_)) {}

bool Statement::readonly() const noexcept {
  return stmt_ == nullptr || sqlite3_stmt_readonly(stmt_.get()) != 0;
}

[[gnu::always_inline]] inline void Statement::bind_value(int index, const Value& value,
                                                         sqlite3_destructor_type lifetime) {
  sqlite3_stmt* s = stmt_.get();
  if (value.object() != nullptr && value.is_null()) [[unlikely]] {
    bind_adapted(index, value);
    return;
  }
  const int rc = value.visit([&](auto v) {
    using V = decltype(v);
    if constexpr (std::is_same_v<V, std::int64_t>) {
      return sqlite3_bind_int64(s, index, v);
    } else if constexpr (std::is_same_v<V, double>) {
      return std::isnan(v) ? sqlite3_bind_null(s, index) : sqlite3_bind_double(s, index, v);
    } else if constexpr (std::is_same_v<V, std::string_view>) {
      return sqlite3_bind_text64(s, index, v.data(), v.size(), lifetime, SQLITE_UTF8);
    } else if constexpr (std::is_same_v<V, std::span<const std::byte>>) {
      // A zero-length blob bound from a null pointer would be NULL; zeroblob(0) stays a blob.
      return v.empty() ? sqlite3_bind_zeroblob(s, index, 0)
                       : sqlite3_bind_blob64(s, index, v.data(), v.size(), lifetime);
    } else {
      return sqlite3_bind_null(s, index);
    }
  });
  if (rc != SQLITE_OK) [[unlikely]]
    raise_from(sqlite3_db_handle(s));
}

// An object awaiting its adapter: the adapted value is a temporary, so SQLite copies it.
void Statement::bind_adapted(int index, const Value& value) {
  bind_value(index, adapt(value, index), SQLITE_TRANSIENT);
}

void Statement::bind(const Params& params) {
  sqlite3_stmt* s = stmt_.get();
  const int count = s == nullptr ? 0 : sqlite3_bind_parameter_count(s);
  if (!params.is_named()) {
    if (params.size() != static_cast<std::size_t>(count)) {
      throw ProgrammingError("Incorrect number of bindings supplied. The current statement uses " +
                             std::to_string(count) + ", and there are " + std::to_string(params.size()) +
                             " supplied.");
    }
    const std::span<const Value> values = params.positional();
    for (int i = 0; i < count; ++i) bind_value(i + 1, values[static_cast<std::size_t>(i)], SQLITE_STATIC);
    return;
  }
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(s, i);
    if (name == nullptr) {
      throw ProgrammingError("Binding " + std::to_string(i) +
                             " has no name, but you supplied a dictionary (which has only names).");
    }
    const std::string_view key(name + 1);  // without the ':', '@' or '$'
    const Value* found = nullptr;
    for (const auto& [k, v] : params.named()) {
      if (k == key) {
        found = &v;
        break;
      }
    }
    if (found == nullptr) {
      // Python 3.11 names the parameter after a ':' whatever its prefix.
      throw ProgrammingError("You did not supply a value for binding parameter :" + std::string(key) + ".");
    }
    bind_value(i, *found, SQLITE_STATIC);
  }
}

int Statement::width() const noexcept { return stmt_ ? sqlite3_data_count(stmt_.get()) : 0; }

void Statement::read_row(const TextFactory* text_factory, std::span<Value> values) const {
  sqlite3_stmt* s = stmt_.get();
  for (std::size_t c = 0; c < values.size(); ++c) {
    const int i = static_cast<int>(c);
    Value& out = values[c];
    // As in Python, a converted column's converter gets the raw value (no text factory), and
    // never sees NULL.
    const ErasedConverter* converter = c < converters_.size() && converters_[c] ? &converters_[c] : nullptr;
    switch (sqlite3_column_type(s, i)) {
      case SQLITE_INTEGER:
        out = Value(static_cast<std::int64_t>(sqlite3_column_int64(s, i)));
        break;
      case SQLITE_FLOAT:
        out = Value(sqlite3_column_double(s, i));
        break;
      case SQLITE_TEXT: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
        if (p == nullptr) raise_nomem();  // even an empty TEXT has a pointer
        const std::string_view text(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
        if (converter == nullptr && text_factory != nullptr && *text_factory) {
          out = (*text_factory)(text);
        } else {
          out = Value(text);  // short text stays inline: no std::string made first
        }
        break;
      }
      case SQLITE_BLOB: {
        const auto* p = static_cast<const std::byte*>(sqlite3_column_blob(s, i));
        out = Value(std::span<const std::byte>(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))));
        break;
      }
      default:
        out = Value(nullptr);
        continue;
    }
    if (converter != nullptr) out = (*converter)(out);
  }
}

namespace {

// PARSE_COLNAMES: "name [type]" -> the type between the brackets.
std::string_view alias_type(std::string_view name) {
  const std::size_t open = name.find('[');
  if (open == std::string_view::npos) return {};
  const std::size_t close = name.find(']', open + 1);
  return close == std::string_view::npos ? std::string_view{} : name.substr(open + 1, close - open - 1);
}

// PARSE_COLNAMES: the name without its " [type]" suffix.
std::string_view alias_name(std::string_view name) {
  std::size_t open = name.find('[');
  if (open == std::string_view::npos) return name;
  if (open > 0 && name[open - 1] == ' ') --open;
  return name.substr(0, open);
}

// PARSE_DECLTYPES: the declared type's first word ("point(10) NOT NULL" -> "point").
std::string_view decl_type(std::string_view decl) { return decl.substr(0, decl.find_first_of(" (")); }

}  // namespace

const std::shared_ptr<const Columns>& Statement::describe(int detect_types) {
  sqlite3_stmt* s = stmt_.get();
  // Converters are looked up at every execution, as Python does: one may be registered later.
  const bool convert = detect_types != 0 && !no_converters();
  // Not re-prepared since the columns were read (the usual case for a cached statement): they
  // are still right, with nothing to compare.
  const int reprepares = s == nullptr ? 0 : sqlite3_stmt_status(s, SQLITE_STMTSTATUS_REPREPARE, 0);
  if (columns_ && detect_types == detect_types_ && reprepares == reprepares_ && !convert &&
      converters_.empty()) {
    return columns_;
  }
  reprepares_ = reprepares;
  const int n = s == nullptr ? 0 : sqlite3_column_count(s);
  // Compare before rebuilding: a schema change can alter the columns of a cached statement.
  bool same = columns_ && detect_types == detect_types_ && columns_->size() == static_cast<std::size_t>(n);
  for (int i = 0; same && i < n; ++i) {
    const char* name = sqlite3_column_name(s, i);
    const char* decl = sqlite3_column_decltype(s, i);
    const Column& c = (*columns_)[static_cast<std::size_t>(i)];
    same = name != nullptr && (detect_types & PARSE_COLNAMES) == 0 && c.name == name &&
           (decl == nullptr ? !c.declared_type : c.declared_type == decl);
  }
  if (same && !convert && converters_.empty()) return columns_;
  auto cols = std::make_shared<Columns>();
  cols->reserve(static_cast<std::size_t>(n));
  converters_.clear();
  for (int i = 0; i < n; ++i) {
    const char* raw_name = sqlite3_column_name(s, i);
    const char* decl = sqlite3_column_decltype(s, i);
    const std::string_view name = raw_name != nullptr ? raw_name : "";
    ErasedConverter converter;
    if (convert && (detect_types & PARSE_COLNAMES) != 0 && !alias_type(name).empty()) {
      converter = find_converter(alias_type(name));
    }
    if (convert && !converter && (detect_types & PARSE_DECLTYPES) != 0 && decl != nullptr) {
      converter = find_converter(decl_type(decl));
    }
    if (converter) {
      converters_.resize(static_cast<std::size_t>(n));
      converters_[static_cast<std::size_t>(i)] = std::move(converter);
    }
    cols->push_back(Column{std::string((detect_types & PARSE_COLNAMES) != 0 ? alias_name(name) : name),
                           decl != nullptr ? std::optional<std::string>(decl) : std::nullopt});
  }
  columns_ = std::move(cols);
  detect_types_ = detect_types;
  return columns_;
}

void Statement::reset() noexcept {
  if (!stmt_) return;
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

}  // namespace uvsqlite::detail
