// SPDX-License-Identifier: Apache-2.0
// A dependency-free test harness: TEST registers a case, CHECK/CHECK_EQ record a failure and go on;
// check_main.cc runs every case (or those whose name contains argv[1]) and exits 1 on any failure.
#pragma once

#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace xfast::test {

struct Case {
  const char* name;
  void (*fn)();
};
inline std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}
inline int failures = 0;

struct Register {
  Register(const char* name, void (*fn)()) { cases().push_back({name, fn}); }
};

// Byte strings print as hex, bytes as numbers, enums as their value, doubles with all digits.
template <typename T>
std::string show(const T& v) {
  std::ostringstream os;
  os.precision(17);
  if constexpr (std::is_same_v<T, std::string>) {
    for (unsigned char ch : v) os << "0123456789abcdef"[ch >> 4] << "0123456789abcdef"[ch & 15];
  } else if constexpr (std::is_enum_v<T>) {
    os << static_cast<long long>(v);
  } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t>) {
    os << static_cast<int>(v);
  } else {
    os << v;
  }
  return os.str();
}

inline void fail(const char* file, int line, const std::string& what) {
  ++failures;
  std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, what.c_str());
}

int run_all(int argc, char** argv);

}  // namespace xfast::test

#define TEST(name)                                                     \
  static void name();                                                  \
  static const ::xfast::test::Register name##_registered(#name, name); \
  static void name()

#define CHECK(cond) ((cond) ? (void)0 : ::xfast::test::fail(__FILE__, __LINE__, #cond))

#define CHECK_EQ(a, b)                                                                 \
  do {                                                                                 \
    const auto& check_a_ = (a);                                                        \
    const auto& check_b_ = (b);                                                        \
    if (!(check_a_ == check_b_)) {                                                     \
      ::xfast::test::fail(__FILE__, __LINE__,                                          \
                          #a " == " #b " (" + ::xfast::test::show(check_a_) + " vs " + \
                              ::xfast::test::show(check_b_) + ")");                    \
    }                                                                                  \
  } while (0)
