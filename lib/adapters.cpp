#include "adapters.hpp"

#include <cxxabi.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "uvsqlite/errors.hpp"

namespace uvsqlite::detail {

namespace {

struct Registry {
  std::shared_mutex mutex;
  std::unordered_map<std::type_index, ErasedAdapter> adapters;
  std::unordered_map<std::string, ErasedConverter> converters;  // keys upper-cased
  std::atomic<bool> has_converters{false};
};

// Never destroyed: detached workers may still read it while the process exits.
Registry& registry() {
  static auto* r = new Registry;
  return *r;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string readable_type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

void register_adapter(std::type_index type, ErasedAdapter adapter) {
  Registry& r = registry();
  std::unique_lock lock(r.mutex);
  if (adapter) {
    r.adapters[type] = std::move(adapter);
  } else {
    r.adapters.erase(type);
  }
}

void register_converter(std::string type_name, ErasedConverter converter) {
  Registry& r = registry();
  std::unique_lock lock(r.mutex);
  if (converter) {
    r.converters[upper(type_name)] = std::move(converter);
  } else {
    r.converters.erase(upper(type_name));
  }
  r.has_converters.store(!r.converters.empty(), std::memory_order_release);
}

Value adapt(const Value& value, int parameter_index) {
  const Object& object = *value.object();
  ErasedAdapter adapter;
  {
    Registry& r = registry();
    std::shared_lock lock(r.mutex);
    auto it = r.adapters.find(object.type());
    if (it != r.adapters.end()) adapter = it->second;
  }
  if (!adapter) {
    throw ProgrammingError("Error binding parameter " + std::to_string(parameter_index) + ": type '" +
                           readable_type_name(object.type()) + "' is not supported");
  }
  Value adapted = adapter(object);
  if (adapted.object() != nullptr) {
    throw ProgrammingError("Error binding parameter " + std::to_string(parameter_index) +
                           ": the adapter for '" + readable_type_name(object.type()) +
                           "' did not return a plain value");
  }
  return adapted;
}

bool no_converters() noexcept { return !registry().has_converters.load(std::memory_order_acquire); }

ErasedConverter find_converter(std::string_view type_name) {
  Registry& r = registry();
  std::shared_lock lock(r.mutex);
  auto it = r.converters.find(upper(type_name));
  return it == r.converters.end() ? nullptr : it->second;
}

}  // namespace uvsqlite::detail
