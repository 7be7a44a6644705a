// Value: construction, inspection, typed reads, and round-trips through SQLite.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/test_support.hpp"

namespace {

using uvsqlite::Blob;
using uvsqlite::Type;
using uvsqlite::Value;

struct Tag {
  int n = 0;
};

Blob bytes(std::initializer_list<int> v) {
  Blob b;
  for (int x : v) b.push_back(static_cast<std::byte>(x));
  return b;
}

// ---------------------------------------------------------------------------------------------
// Construction and type()

TEST(ValueConstruct, DefaultIsNull) {
  Value v;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.type(), Type::Null);
}

TEST(ValueConstruct, NullptrIsNull) {
  Value v = nullptr;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.type(), Type::Null);
}

TEST(ValueConstruct, NulloptIsNull) {
  Value v = std::nullopt;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.type(), Type::Null);
}

TEST(ValueConstruct, BoolIsIntegerZeroOrOne) {
  Value t = true;
  Value f = false;
  EXPECT_EQ(t.type(), Type::Integer);
  EXPECT_EQ(f.type(), Type::Integer);
  EXPECT_EQ(t.get<std::int64_t>(), 1);
  EXPECT_EQ(f.get<std::int64_t>(), 0);
}

TEST(ValueConstruct, EveryIntegralTypeIsInteger) {
  EXPECT_EQ(Value(static_cast<char>(65)).get<std::int64_t>(), 65);
  EXPECT_EQ(Value(static_cast<signed char>(-5)).get<std::int64_t>(), -5);
  EXPECT_EQ(Value(static_cast<unsigned char>(250)).get<std::int64_t>(), 250);
  EXPECT_EQ(Value(static_cast<short>(-300)).get<std::int64_t>(), -300);
  EXPECT_EQ(Value(static_cast<unsigned short>(65535)).get<std::int64_t>(), 65535);
  EXPECT_EQ(Value(-7).get<std::int64_t>(), -7);
  EXPECT_EQ(Value(4000000000U).get<std::int64_t>(), 4000000000LL);
  EXPECT_EQ(Value(-8L).get<std::int64_t>(), -8);
  EXPECT_EQ(Value(std::numeric_limits<long long>::min()).get<std::int64_t>(),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(Value(std::numeric_limits<std::int64_t>::max()).get<std::int64_t>(),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(Value(std::int8_t{-128}).type(), Type::Integer);
  EXPECT_EQ(Value(std::uint16_t{1}).type(), Type::Integer);
  EXPECT_EQ(Value(std::size_t{3}).type(), Type::Integer);
}

TEST(ValueConstruct, Uint64UpToInt64MaxIsAccepted) {
  const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  Value v = max;
  EXPECT_EQ(v.get<std::int64_t>(), std::numeric_limits<std::int64_t>::max());
}

TEST(ValueConstruct, Uint64AboveInt64MaxThrowsDataError) {
  const auto above = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;
  EXPECT_THROW(Value{above}, uvsqlite::DataError);
  EXPECT_THROW(Value{std::numeric_limits<std::uint64_t>::max()}, uvsqlite::DataError);
  EXPECT_THROW(Value{std::numeric_limits<unsigned long long>::max()}, uvsqlite::DataError);
}

TEST(ValueConstruct, FloatingTypesAreReal) {
  Value f = 1.5F;
  Value d = 2.25;
  Value ld = 3.5L;
  EXPECT_EQ(f.type(), Type::Real);
  EXPECT_EQ(d.type(), Type::Real);
  EXPECT_EQ(ld.type(), Type::Real);
  EXPECT_DOUBLE_EQ(f.get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(d.get<double>(), 2.25);
  EXPECT_DOUBLE_EQ(ld.get<double>(), 3.5);
}

TEST(ValueConstruct, NanIsKeptAsReal) {
  Value v = std::nan("");
  EXPECT_EQ(v.type(), Type::Real);
  EXPECT_TRUE(std::isnan(v.get<double>()));
}

TEST(ValueConstruct, StringLikesAreText) {
  Value s = std::string("abc");
  Value sv = std::string_view("def");
  Value cs = "ghi";
  EXPECT_EQ(s.type(), Type::Text);
  EXPECT_EQ(sv.type(), Type::Text);
  EXPECT_EQ(cs.type(), Type::Text);
  EXPECT_EQ(s.get<std::string>(), "abc");
  EXPECT_EQ(sv.get<std::string>(), "def");
  EXPECT_EQ(cs.get<std::string>(), "ghi");
}

TEST(ValueConstruct, EmptyStringIsTextNotNull) {
  Value v = "";
  EXPECT_EQ(v.type(), Type::Text);
  EXPECT_FALSE(v.is_null());
  EXPECT_EQ(v.get<std::string>(), "");
}

TEST(ValueConstruct, NullCharPointerIsNull) {
  const char* p = nullptr;
  Value v = p;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.type(), Type::Null);
}

TEST(ValueConstruct, BlobIsBlob) {
  Value v = bytes({1, 0, 255});
  EXPECT_EQ(v.type(), Type::Blob);
  EXPECT_EQ(v.get<Blob>(), bytes({1, 0, 255}));
}

TEST(ValueConstruct, EmptyBlobStaysBlobNotNull) {
  Value v = Blob{};
  EXPECT_EQ(v.type(), Type::Blob);
  EXPECT_FALSE(v.is_null());
  EXPECT_TRUE(v.get<Blob>().empty());
}

TEST(ValueConstruct, EmptyOptionalIsNull) {
  EXPECT_TRUE(Value(std::optional<int>{}).is_null());
  EXPECT_TRUE(Value(std::optional<std::string>{}).is_null());
  EXPECT_TRUE(Value(std::optional<double>{}).is_null());
}

TEST(ValueConstruct, FullOptionalHoldsItsValue) {
  Value i = std::optional<int>(5);
  Value s = std::optional<std::string>("x");
  Value d = std::optional<double>(0.5);
  Value b = std::optional<Blob>(Blob{});
  EXPECT_EQ(i.type(), Type::Integer);
  EXPECT_EQ(i.get<std::int64_t>(), 5);
  EXPECT_EQ(s.type(), Type::Text);
  EXPECT_EQ(s.get<std::string>(), "x");
  EXPECT_EQ(d.type(), Type::Real);
  EXPECT_EQ(b.type(), Type::Blob);
}

TEST(ValueConstruct, OptionalBoolBindsAsInteger) {
  Value v = std::optional<bool>(true);
  EXPECT_EQ(v.type(), Type::Integer);
  EXPECT_EQ(v.get<std::int64_t>(), 1);
}

TEST(ValueConstruct, TextKeepsEmbeddedNulBytes) {
  Value v = std::string("a\0b", 3);
  EXPECT_EQ(v.get<std::string>().size(), 3U);
  EXPECT_EQ(v.get<std::string>(), std::string("a\0b", 3));
  EXPECT_EQ(v.get<std::string_view>().size(), 3U);
}

TEST(ValueConstruct, TypeNames) {
  EXPECT_STREQ(uvsqlite::type_name(Type::Null), "NULL");
  EXPECT_STREQ(uvsqlite::type_name(Type::Integer), "INTEGER");
  EXPECT_STREQ(uvsqlite::type_name(Type::Real), "REAL");
  EXPECT_STREQ(uvsqlite::type_name(Type::Text), "TEXT");
  EXPECT_STREQ(uvsqlite::type_name(Type::Blob), "BLOB");
}

TEST(ValueConstruct, EqualityComparesStorageClassAndValue) {
  EXPECT_EQ(Value(1), Value(1));
  EXPECT_NE(Value(1), Value(2));
  EXPECT_NE(Value(1), Value(1.0));
  EXPECT_NE(Value("1"), Value(1));
  EXPECT_EQ(Value(nullptr), Value());
  EXPECT_NE(Value(Blob{}), Value(nullptr));
  EXPECT_NE(Value(""), Value(Blob{}));
}

// ---------------------------------------------------------------------------------------------
// Storage: inline up to 22 bytes, on the heap beyond; copies own their bytes; moves empty.

// Text and blobs of every length around the inline limit, with bytes that differ by position.
std::string text_of(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i % 7 == 3 ? '\0' : 'a' + i % 26));
  return s;
}
Blob blob_of(std::size_t n) {
  Blob b;
  for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<std::byte>(255 - i % 256));
  return b;
}

TEST(ValueStorage, IsTwentyFourBytes) { EXPECT_EQ(sizeof(Value), 24U); }

TEST(ValueStorage, TextOfEveryLengthAroundTheInlineLimitSurvivesEveryConstructor) {
  for (std::size_t n = 0; n <= 40; ++n) {
    const std::string s = text_of(n);
    for (const Value& v : {Value(s), Value(std::string_view(s)), Value(std::string(s))}) {
      EXPECT_EQ(v.type(), Type::Text) << n;
      EXPECT_EQ(v.get<std::string>(), s) << n;
      EXPECT_EQ(v.get<std::string_view>().size(), n);
    }
  }
}

TEST(ValueStorage, BlobsOfEveryLengthAroundTheInlineLimitSurviveEveryConstructor) {
  for (std::size_t n = 0; n <= 40; ++n) {
    const Blob b = blob_of(n);
    for (const Value& v : {Value(b), Value(Blob(b)), Value(std::span<const std::byte>(b))}) {
      EXPECT_EQ(v.type(), Type::Blob) << n;
      EXPECT_EQ(v.get<Blob>(), b) << n;
      EXPECT_EQ(v.get<std::span<const std::byte>>().size(), n);
    }
  }
}

TEST(ValueStorage, CopiesOwnTheirBytes) {
  for (std::size_t n : {5U, 22U, 23U, 1000U}) {
    auto original = std::make_unique<Value>(text_of(n));
    const Value copy = *original;
    Value assigned = 1;
    assigned = *original;
    original.reset();  // the copies must not point into it
    EXPECT_EQ(copy.get<std::string>(), text_of(n));
    EXPECT_EQ(assigned.get<std::string>(), text_of(n));
    auto blob = std::make_unique<Value>(blob_of(n));
    const Value blob_copy = *blob;
    blob.reset();
    EXPECT_EQ(blob_copy.get<Blob>(), blob_of(n));
  }
}

TEST(ValueStorage, CopyAssignmentReplacesEveryKindWithEveryKind) {
  // Inline kinds are copied as bytes, owning kinds through a copy of their heap part; the value
  // assigned over is released either way (the sanitizer builds see a leak or a double free).
  const std::vector<Value> kinds = {Value(),
                                    Value(7),
                                    Value(2.5),
                                    Value(text_of(5)),
                                    Value(text_of(40)),
                                    Value(blob_of(5)),
                                    Value(blob_of(40)),
                                    Value(Tag{3}),
                                    Value::converted(Value(text_of(30)), Tag{4})};
  for (const Value& from : kinds) {
    for (const Value& to : kinds) {
      Value target = to;
      target = from;
      EXPECT_EQ(target, from);
      EXPECT_EQ(target.type(), from.type());
      const Value& same = target;
      target = same;  // self-assignment keeps the value
      EXPECT_EQ(target, from);
    }
  }
}

TEST(ValueStorage, MovingLeavesNullAndKeepsTheBytesAtTheirNewPlace) {
  for (std::size_t n : {5U, 23U, 1000U}) {
    Value a = text_of(n);
    const char* heap_bytes = a.get<std::string_view>().data();
    Value b = std::move(a);
    EXPECT_TRUE(a.is_null());  // NOLINT(bugprone-use-after-move): documented state
    EXPECT_EQ(b.get<std::string>(), text_of(n));
    if (n > 22) {
      EXPECT_EQ(b.get<std::string_view>().data(), heap_bytes);  // not copied
    }
    Value c = 2.5;
    c = std::move(b);
    EXPECT_TRUE(b.is_null());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(c.get<std::string>(), text_of(n));
  }
}

TEST(ValueStorage, AStringMovedInIsNotCopied) {
  std::string big(1000, 'x');
  const char* bytes = big.data();
  const Value v(std::move(big));
  EXPECT_EQ(v.get<std::string_view>().data(), bytes);
  Blob blob(1000, std::byte{7});
  const std::byte* blob_bytes = blob.data();
  const Value b(std::move(blob));
  EXPECT_EQ(b.get<std::span<const std::byte>>().data(), blob_bytes);
}

TEST(ValueStorage, CarriedObjectsSurviveCopiesAndMoves) {
  auto adapted = std::make_unique<Value>(Tag{7});
  const Value copy = *adapted;
  EXPECT_EQ(copy.object(), adapted->object());  // shared, immutable
  adapted.reset();
  EXPECT_TRUE(copy.is_null());
  EXPECT_EQ(copy.get<Tag>().n, 7);

  Value converted = Value::converted(Value(text_of(40)), Tag{9});
  EXPECT_EQ(converted.type(), Type::Text);
  EXPECT_EQ(converted.get<std::string>(), text_of(40));
  EXPECT_EQ(converted.get<Tag>().n, 9);
  Value moved = std::move(converted);
  EXPECT_EQ(moved.get<Tag>().n, 9);
  EXPECT_EQ(moved.get<std::string>(), text_of(40));
  // Converting a converted value replaces the object and keeps the raw value.
  const Value again = Value::converted(moved, 3.5);
  EXPECT_EQ(again.get<std::string>(), text_of(40));
  EXPECT_EQ(again.get<double>(), 3.5);
  EXPECT_THROW((void)again.get<Tag>(), uvsqlite::InterfaceError);
}

TEST(ValueStorage, EqualityIgnoresWhereTheBytesLive) {
  EXPECT_EQ(Value(text_of(30)), Value(std::string_view(text_of(30))));
  EXPECT_NE(Value(text_of(30)), Value(text_of(29)));
  EXPECT_NE(Value(text_of(22)), Value(text_of(23)));
  EXPECT_EQ(Value(blob_of(30)), Value(std::span<const std::byte>(blob_of(30))));
  EXPECT_NE(Value(blob_of(22)), Value(blob_of(23)));
  EXPECT_NE(Value(text_of(3)), Value(Blob{std::byte{'a'}, std::byte{'b'}, std::byte{'c'}}));
}

// ---------------------------------------------------------------------------------------------
// visit

// What visit() passed: the alternative's name and its value as text.
std::string visited(const Value& v) {
  return v.visit([](auto x) -> std::string {
    using X = decltype(x);
    if constexpr (std::is_same_v<X, std::nullptr_t>) {
      return "null";
    } else if constexpr (std::is_same_v<X, std::int64_t>) {
      return "integer " + std::to_string(x);
    } else if constexpr (std::is_same_v<X, double>) {
      return "real " + std::to_string(x);
    } else if constexpr (std::is_same_v<X, std::string_view>) {
      return "text " + std::string(x);
    } else {
      static_assert(std::is_same_v<X, std::span<const std::byte>>);
      return "blob " + std::to_string(x.size());
    }
  });
}

TEST(ValueVisit, EachStorageClassIsVisitedAsItsCppType) {
  EXPECT_EQ(visited(Value()), "null");
  EXPECT_EQ(visited(Value(-3)), "integer -3");
  EXPECT_EQ(visited(Value(true)), "integer 1");
  EXPECT_EQ(visited(Value(0.5)), "real 0.500000");
  EXPECT_EQ(visited(Value("abc")), "text abc");
  EXPECT_EQ(visited(Value(text_of(40))), "text " + text_of(40));
  EXPECT_EQ(visited(Value(Blob{})), "blob 0");
  EXPECT_EQ(visited(Value(blob_of(40))), "blob 40");
}

TEST(ValueVisit, ViewsPointIntoTheValue) {
  for (std::size_t n : {3U, 40U}) {
    const Value text = text_of(n);
    const Value blob = blob_of(n);
    text.visit([&](auto x) {
      if constexpr (std::is_same_v<decltype(x), std::string_view>) {
        EXPECT_EQ(x.data(), text.get<std::string_view>().data());
      } else {
        ADD_FAILURE() << "text visited as another type";
      }
    });
    blob.visit([&](auto x) {
      if constexpr (std::is_same_v<decltype(x), std::span<const std::byte>>) {
        EXPECT_EQ(x.data(), blob.get<std::span<const std::byte>>().data());
      } else {
        ADD_FAILURE() << "blob visited as another type";
      }
    });
  }
}

TEST(ValueVisit, AConvertedValueVisitsItsRawValueAndAnUnadaptedObjectVisitsNull) {
  EXPECT_EQ(visited(Value::converted(Value(12), Tag{1})), "integer 12");
  EXPECT_EQ(visited(Value::converted(Value(text_of(30)), Tag{1})), "text " + text_of(30));
  EXPECT_EQ(visited(Value(Tag{5})), "null");
}

// ---------------------------------------------------------------------------------------------
// get<T>

TEST(ValueGet, IntegralTypes) {
  Value v = 42;
  EXPECT_EQ(v.get<std::int64_t>(), 42);
  EXPECT_EQ(v.get<int>(), 42);
  EXPECT_EQ(v.get<std::uint8_t>(), 42);
  EXPECT_EQ(v.get<short>(), 42);
}

TEST(ValueGet, BoolFromInteger) {
  EXPECT_TRUE(Value(1).get<bool>());
  EXPECT_FALSE(Value(0).get<bool>());
  EXPECT_TRUE(Value(7).get<bool>());
}

TEST(ValueGet, DoubleFromReal) { EXPECT_DOUBLE_EQ(Value(2.5).get<double>(), 2.5); }

TEST(ValueGet, IntegerReadAsDoubleConverts) {
  EXPECT_DOUBLE_EQ(Value(5).get<double>(), 5.0);
  EXPECT_FLOAT_EQ(Value(-3).get<float>(), -3.0F);
}

TEST(ValueGet, StringAndStringView) {
  Value v = "hello";
  EXPECT_EQ(v.get<std::string>(), "hello");
  EXPECT_EQ(v.get<std::string_view>(), "hello");
}

TEST(ValueGet, StringViewPointsIntoTheValue) {
  Value v = "hello";
  auto sv = v.get<std::string_view>();
  EXPECT_EQ(sv.data(), v.get<std::string_view>().data());
}

TEST(ValueGet, BlobGet) {
  Value v = bytes({9, 8});
  EXPECT_EQ(v.get<Blob>(), bytes({9, 8}));
}

TEST(ValueGet, BlobAsSpanViewsTheBytes) {
  Value v = bytes({9, 8, 7});
  auto span = v.get<std::span<const std::byte>>();
  ASSERT_EQ(span.size(), 3U);
  EXPECT_EQ(span[2], std::byte{7});
  EXPECT_THROW((void)Value("x").get<std::span<const std::byte>>(), uvsqlite::InterfaceError);
}

TEST(ValueGet, OptionalOfNullIsNullopt) {
  Value v;
  EXPECT_EQ(v.get<std::optional<std::int64_t>>(), std::nullopt);
  EXPECT_EQ(v.get<std::optional<std::string>>(), std::nullopt);
  EXPECT_EQ(v.get<std::optional<double>>(), std::nullopt);
  EXPECT_EQ(v.get<std::optional<Blob>>(), std::nullopt);
}

TEST(ValueGet, OptionalOfValueHoldsIt) {
  EXPECT_EQ(Value(3).get<std::optional<int>>(), std::optional<int>(3));
  EXPECT_EQ(Value("s").get<std::optional<std::string>>(), std::optional<std::string>("s"));
}

TEST(ValueGet, IntegerFromTextThrowsInterfaceError) {
  EXPECT_THROW((void)Value("12").get<std::int64_t>(), uvsqlite::InterfaceError);
  EXPECT_THROW((void)Value("1").get<bool>(), uvsqlite::InterfaceError);
}

TEST(ValueGet, IntegerFromRealThrowsInterfaceError) {
  EXPECT_THROW((void)Value(1.0).get<std::int64_t>(), uvsqlite::InterfaceError);
  EXPECT_THROW((void)Value(1.0).get<int>(), uvsqlite::InterfaceError);
}

TEST(ValueGet, IntegerFromNullThrowsInterfaceError) {
  EXPECT_THROW((void)Value().get<std::int64_t>(), uvsqlite::InterfaceError);
  EXPECT_THROW((void)Value().get<std::string>(), uvsqlite::InterfaceError);
  EXPECT_THROW((void)Value().get<double>(), uvsqlite::InterfaceError);
}

TEST(ValueGet, TextFromIntegerThrowsInterfaceError) {
  EXPECT_THROW((void)Value(1).get<std::string>(), uvsqlite::InterfaceError);
  EXPECT_THROW((void)Value(1).get<std::string_view>(), uvsqlite::InterfaceError);
}

TEST(ValueGet, TextFromBlobThrowsInterfaceError) {
  EXPECT_THROW((void)Value(bytes({65})).get<std::string>(), uvsqlite::InterfaceError);
}

TEST(ValueGet, BlobFromTextThrowsInterfaceError) {
  EXPECT_THROW((void)Value("A").get<Blob>(), uvsqlite::InterfaceError);
}

TEST(ValueGet, DoubleFromTextThrowsInterfaceError) {
  EXPECT_THROW((void)Value("1.5").get<double>(), uvsqlite::InterfaceError);
}

TEST(ValueGet, OptionalOfWrongTypeThrowsInterfaceError) {
  EXPECT_THROW((void)Value("x").get<std::optional<int>>(), uvsqlite::InterfaceError);
}

TEST(ValueGet, WrongTypeIsAnErrorButNotADatabaseError) {
  try {
    (void)Value("x").get<int>();
    FAIL() << "no exception";
  } catch (const uvsqlite::DatabaseError&) {
    FAIL() << "InterfaceError is not a DatabaseError";
  } catch (const uvsqlite::Error& e) {
    EXPECT_EQ(e.sqlite_errorcode(), -1);
  }
}

TEST(ValueGet, NarrowingOutOfRangeThrowsDataError) {
  EXPECT_THROW((void)Value(1000).get<std::int8_t>(), uvsqlite::DataError);
  EXPECT_THROW((void)Value(-1).get<std::uint32_t>(), uvsqlite::DataError);
  EXPECT_THROW((void)Value(std::int64_t{1} << 40).get<int>(), uvsqlite::DataError);
}

TEST(ValueGet, NarrowingInRangeSucceeds) {
  EXPECT_EQ(Value(-128).get<std::int8_t>(), -128);
  EXPECT_EQ(Value(255).get<std::uint8_t>(), 255);
}

// ---------------------------------------------------------------------------------------------
// Round-trips through SQLite

class ValueRoundTrip : public ::testing::Test {
 protected:
  void TearDown() override { db_.close().get(); }

  // (value, typeof(value), length(value)) as SQLite sees the bound parameter.
  uvsqlite::Row round_trip(const Value& v) {
    auto row = db_.execute("SELECT ?1, typeof(?1), length(?1)", {v}).get().fetchone().get();
    EXPECT_TRUE(row.has_value());
    return row.value_or(uvsqlite::Row{});
  }

  uvsqlite::Connection db_ = uvsqlite::connect(":memory:").get();
};

TEST_F(ValueRoundTrip, NullIsNull) {
  auto row = round_trip(nullptr);
  EXPECT_TRUE(row[0].is_null());
  EXPECT_EQ(row[1].get<std::string>(), "null");
}

TEST_F(ValueRoundTrip, IntegerIsInteger) {
  auto row = round_trip(42);
  EXPECT_EQ(row[0].type(), Type::Integer);
  EXPECT_EQ(row[0].get<std::int64_t>(), 42);
  EXPECT_EQ(row[1].get<std::string>(), "integer");
}

TEST_F(ValueRoundTrip, Int64ExtremesSurvive) {
  auto max = round_trip(std::numeric_limits<std::int64_t>::max());
  auto min = round_trip(std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(max[0].get<std::int64_t>(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(min[0].get<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
}

TEST_F(ValueRoundTrip, BoolIsIntegerOne) {
  auto row = round_trip(true);
  EXPECT_EQ(row[1].get<std::string>(), "integer");
  EXPECT_EQ(row[0].get<std::int64_t>(), 1);
}

TEST_F(ValueRoundTrip, DoubleIsReal) {
  auto row = round_trip(1.5);
  EXPECT_EQ(row[0].type(), Type::Real);
  EXPECT_DOUBLE_EQ(row[0].get<double>(), 1.5);
  EXPECT_EQ(row[1].get<std::string>(), "real");
}

TEST_F(ValueRoundTrip, TextIsText) {
  auto row = round_trip("héllo");
  EXPECT_EQ(row[0].type(), Type::Text);
  EXPECT_EQ(row[0].get<std::string>(), "héllo");
  EXPECT_EQ(row[1].get<std::string>(), "text");
  EXPECT_EQ(row[2].get<std::int64_t>(), 5);  // characters, not bytes
}

TEST_F(ValueRoundTrip, BlobIsBlob) {
  auto row = round_trip(bytes({0, 1, 2, 255}));
  EXPECT_EQ(row[0].type(), Type::Blob);
  EXPECT_EQ(row[0].get<Blob>(), bytes({0, 1, 2, 255}));
  EXPECT_EQ(row[1].get<std::string>(), "blob");
  EXPECT_EQ(row[2].get<std::int64_t>(), 4);
}

TEST_F(ValueRoundTrip, EmptyBlobIsBlobOfLengthZero) {
  auto row = round_trip(Blob{});
  EXPECT_EQ(row[1].get<std::string>(), "blob");
  EXPECT_EQ(row[2].get<std::int64_t>(), 0);
  EXPECT_EQ(row[0].type(), Type::Blob);
  EXPECT_TRUE(row[0].get<Blob>().empty());
}

TEST_F(ValueRoundTrip, EmptyTextIsTextNotNull) {
  auto row = round_trip("");
  EXPECT_EQ(row[1].get<std::string>(), "text");
  EXPECT_EQ(row[0].type(), Type::Text);
  EXPECT_EQ(row[0].get<std::string>(), "");
}

TEST_F(ValueRoundTrip, NanBindsAsNull) {
  auto row = round_trip(std::nan(""));
  EXPECT_TRUE(row[0].is_null());
  EXPECT_EQ(row[1].get<std::string>(), "null");
}

TEST_F(ValueRoundTrip, InfinityIsReal) {
  auto row = round_trip(std::numeric_limits<double>::infinity());
  EXPECT_EQ(row[1].get<std::string>(), "real");
  EXPECT_EQ(row[0].get<double>(), std::numeric_limits<double>::infinity());
}

TEST_F(ValueRoundTrip, TextWithEmbeddedNulComesBackIntact) {
  const std::string text("a\0b", 3);
  auto row = round_trip(text);
  EXPECT_EQ(row[1].get<std::string>(), "text");
  EXPECT_EQ(row[0].get<std::string>().size(), 3U);
  EXPECT_EQ(row[0].get<std::string>(), text);
}

TEST_F(ValueRoundTrip, EmptyOptionalIsNullAndFullOptionalIsItsValue) {
  auto none = round_trip(std::optional<int>{});
  auto some = round_trip(std::optional<int>{7});
  EXPECT_EQ(none[1].get<std::string>(), "null");
  EXPECT_EQ(some[1].get<std::string>(), "integer");
  EXPECT_EQ(some[0].get<int>(), 7);
}

TEST_F(ValueRoundTrip, StoredInTableKeepsStorageClass) {
  db_.execute("CREATE TABLE t(v)").get();
  db_.executemany("INSERT INTO t VALUES (?)", {{nullptr}, {1}, {2.5}, {"x"}, {Blob{}}}).get();
  auto rows = db_.execute_fetchall("SELECT typeof(v) FROM t ORDER BY rowid").get();
  ASSERT_EQ(rows.size(), 5U);
  EXPECT_EQ(rows[0][0].get<std::string>(), "null");
  EXPECT_EQ(rows[1][0].get<std::string>(), "integer");
  EXPECT_EQ(rows[2][0].get<std::string>(), "real");
  EXPECT_EQ(rows[3][0].get<std::string>(), "text");
  EXPECT_EQ(rows[4][0].get<std::string>(), "blob");
}

}  // namespace
