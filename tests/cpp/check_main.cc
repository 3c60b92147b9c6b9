// SPDX-License-Identifier: Apache-2.0
// main() for every C++ test binary: runs the registered cases, exit status 1 on any failure.
#include <cstdio>
#include <cstring>

#include "check.h"

namespace xfast::test {

int run_all(int argc, char** argv) {
  for (const Case& c : cases()) {
    if (argc > 1 && std::strstr(c.name, argv[1]) == nullptr) continue;
    const int before = failures;
    c.fn();
    std::printf("[%s] %s\n", failures == before ? "  OK  " : "FAILED", c.name);
  }
  std::printf("%d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace xfast::test

int main(int argc, char** argv) { return xfast::test::run_all(argc, argv); }
