#pragma once
// The byte encoding the fuzz targets read their inputs in. Every byte string is a valid input:
// reads past the end give zeros and empty strings, so libFuzzer's mutations never produce an
// input that the harness rejects instead of running.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uvsqlite/params.hpp"
#include "uvsqlite/value.hpp"

namespace uvsqlite::fuzz {

/// Separates the records of an input (ASCII RS: meaningless in SQL, so seeds stay readable).
inline constexpr char kRecordSeparator = '\x1e';
/// Separates a record's SQL text from its parameters (ASCII US).
inline constexpr char kFieldSeparator = '\x1f';

/// Splits `data` at each `separator`, giving at most `max_parts` parts (the last one keeps the
/// rest, separators included).
std::vector<std::string_view> split(std::string_view data, char separator, std::size_t max_parts);

/// A cursor over an input's bytes.
class FuzzInput {
 public:
  explicit FuzzInput(std::string_view data) noexcept : data_(data) {}

  /// True once every byte is read.
  [[nodiscard]] bool empty() const noexcept { return pos_ >= data_.size(); }
  /// The next byte; 0 past the end.
  std::uint8_t byte() noexcept;
  /// A length byte, then that many bytes (fewer at the end): text with any bytes, NUL included.
  std::string counted();
  /// The bytes up to `stop` (consumed, not returned) or to the end.
  std::string until(char stop);

  /// A typed value, chosen by a tag byte:
  /// - `n` NULL; `z` an empty blob;
  /// - `i` a signed decimal integer (saturating), `r` a decimal real (`inf` and `nan` included);
  /// - `s` text and `x` a blob, each as counted() bytes;
  /// - any other tag: the integer value of the tag byte itself.
  Value value();

  /// Parameters: values up to the end, or to a `|` (consumed), which ends one set of
  /// executemany(). A `:` starts a named value: its name runs up to `=`, and one named value
  /// makes the whole set named (the positional values are then dropped).
  Params params();

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace uvsqlite::fuzz
