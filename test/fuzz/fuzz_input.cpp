#include "fuzz_input.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace uvsqlite::fuzz {

std::vector<std::string_view> split(std::string_view data, char separator, std::size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const std::size_t at = data.find(separator);
    if (at == std::string_view::npos) break;
    parts.push_back(data.substr(0, at));
    data.remove_prefix(at + 1);
  }
  parts.push_back(data);
  return parts;
}

std::uint8_t FuzzInput::byte() noexcept { return empty() ? 0 : static_cast<std::uint8_t>(data_[pos_++]); }

std::string FuzzInput::counted() {
  const std::size_t n = byte();
  const std::size_t take = std::min(n, data_.size() - std::min(pos_, data_.size()));
  std::string out(data_.substr(pos_, take));
  pos_ += take;
  return out;
}

std::string FuzzInput::until(char stop) {
  if (empty()) return {};
  const std::size_t at = data_.find(stop, pos_);
  const std::size_t end = at == std::string_view::npos ? data_.size() : at;
  std::string out(data_.substr(pos_, end - pos_));
  pos_ = at == std::string_view::npos ? data_.size() : at + 1;
  return out;
}

namespace {

// The longest run of bytes from `chars` at the front of `rest`, at most 40 of them (a number).
std::string take_number(std::string_view rest, std::string_view chars) {
  std::size_t n = 0;
  while (n < rest.size() && n < 40 && chars.find(rest[n]) != std::string_view::npos) ++n;
  return std::string(rest.substr(0, n));
}

}  // namespace

Value FuzzInput::value() {
  const char tag = static_cast<char>(byte());
  switch (tag) {
    case 'n':
      return nullptr;
    case 'z':
      return Blob{};
    case 'i': {
      const std::string digits = take_number(data_.substr(std::min(pos_, data_.size())), "-+0123456789");
      pos_ += digits.size();
      // strtoll saturates at the int64 limits, which are the interesting values anyway.
      return static_cast<std::int64_t>(std::strtoll(digits.c_str(), nullptr, 10));
    }
    case 'r': {
      const std::string text =
          take_number(data_.substr(std::min(pos_, data_.size())), "-+.0123456789eEinfatyINFATY");
      pos_ += text.size();
      return std::strtod(text.c_str(), nullptr);
    }
    case 's':
      return counted();
    case 'x': {
      const std::string bytes = counted();
      const auto* p = reinterpret_cast<const std::byte*>(bytes.data());
      return Blob(p, p + bytes.size());
    }
    default:
      return static_cast<std::int64_t>(static_cast<unsigned char>(tag));
  }
}

Params FuzzInput::params() {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> named;
  while (!empty()) {
    const char next = data_[pos_];
    if (next == '|') {
      ++pos_;
      break;
    }
    if (next == ':') {
      ++pos_;
      std::string name = until('=');
      named.emplace_back(std::move(name), value());
    } else {
      positional.push_back(value());
    }
  }
  if (!named.empty()) return Params(std::move(named));
  return Params(std::move(positional));
}

}  // namespace uvsqlite::fuzz
