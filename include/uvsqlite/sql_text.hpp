#pragma once
/// @file sql_text.hpp
/// The SQL text an operation takes: a short statement travels inside the queued job itself.
///
/// Thread-safety: a plain value type.

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace uvsqlite {

/// SQL text given to execute(), executemany(), execute_fetchall() or execute_insert().
///
/// Built implicitly from a string literal, a `const char*` (null is the empty text), a
/// std::string_view or a std::string (moved in, not copied, when long). Text of up to kInline
/// bytes is kept in the object, and so in the job that carries it to the worker: submitting the
/// usual short statement allocates nothing for its text, and the worker reads it from the
/// memory that holds the job.
class SqlText {
 public:
  /// Bytes kept in the object itself.
  static constexpr std::size_t kInline = 86;

  SqlText(const char* sql)  // NOLINT(google-explicit-constructor)
      : SqlText(sql != nullptr ? std::string_view(sql) : std::string_view()) {}
  SqlText(std::string_view sql) {  // NOLINT(google-explicit-constructor)
    if (!keep_inline(sql)) long_.assign(sql);
  }
  SqlText(std::string sql) {  // NOLINT(google-explicit-constructor)
    if (!keep_inline(sql)) long_ = std::move(sql);
  }

  /// The text.
  [[nodiscard]] std::string_view view() const noexcept {
    return size_ != kLong ? std::string_view(reinterpret_cast<const char*>(inline_), size_)
                          : std::string_view(long_);
  }
  operator std::string_view() const noexcept { return view(); }  // NOLINT(google-explicit-constructor)

 private:
  static constexpr unsigned char kLong = 0xFF;

  // Copies short text into the object; false (nothing done) when it is too long.
  bool keep_inline(std::string_view sql) noexcept {
    if (sql.size() > kInline) return false;
    if (!sql.empty()) std::memcpy(inline_, sql.data(), sql.size());
    size_ = static_cast<unsigned char>(sql.size());
    return true;
  }
  static_assert(kInline < kLong);

  std::string long_;               // the text when longer than kInline
  unsigned char inline_[kInline];  // unsigned: copying its unused bytes is well defined
  unsigned char size_ = kLong;
};

}  // namespace uvsqlite
