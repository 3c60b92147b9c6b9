// SPDX-License-Identifier: Apache-2.0
// ColumnMemory: contents kept across every kind of growth (heap realloc, heap to mapping, mremap
// past the huge-page size), release trimmed and freed by its deleter, moves leaving no double free.
#include "column_memory.h"

#include <cstdint>
#include <cstring>
#include <utility>

#include "check.h"

namespace {

using xfast::ColumnMemory;

// Grows `m` to `bytes` in steps of `step`, writing a running pattern as a column would; true when
// every byte written so far is still there after each growth.
bool grow_and_check(ColumnMemory& m, std::size_t bytes, std::size_t step) {
  std::size_t used = 0;
  while (used < bytes) {
    const std::size_t next = used + step;
    m.reserve(next);
    if (m.capacity() < next) return false;
    auto* p = static_cast<uint32_t*>(m.data());
    for (std::size_t i = used / 4; i < next / 4; ++i) p[i] = static_cast<uint32_t>(i * 2654435761u);
    for (std::size_t i = 0; i < next / 4; i += 1021) {
      if (p[i] != static_cast<uint32_t>(i * 2654435761u)) return false;
    }
    used = next;
  }
  return true;
}

TEST(small_buffer_stays_on_the_heap_and_keeps_its_contents) {
  ColumnMemory m;
  CHECK(m.data() == nullptr);
  CHECK(grow_and_check(m, 16 * 1024, 8));
  CHECK(m.capacity() >= 16 * 1024);
}

TEST(growth_through_a_mapping_and_huge_pages_keeps_contents) {
  ColumnMemory m;
  // 40 MB in 4 KiB steps crosses the heap->mapping boundary and many mremap doublings.
  CHECK(grow_and_check(m, 40u << 20, 4096));
}

TEST(release_trims_and_the_deleter_frees) {
  for (std::size_t bytes : {std::size_t{100}, std::size_t{1} << 20, std::size_t{9} << 20}) {
    ColumnMemory m;
    CHECK(grow_and_check(m, bytes, bytes / 4));
    xfast::ReleasedColumn<uint32_t> out(static_cast<uint32_t*>(m.release(bytes)));
    CHECK(m.data() == nullptr);
    CHECK_EQ(m.capacity(), std::size_t{0});
    CHECK_EQ(out[bytes / 4 - 1], static_cast<uint32_t>((bytes / 4 - 1) * 2654435761u));
  }
  ColumnMemory never_used;
  CHECK(never_used.release(0) == nullptr);
  xfast::free_released_column(nullptr);
}

TEST(moves_hand_over_the_buffer) {
  ColumnMemory a;
  CHECK(grow_and_check(a, 1 << 20, 1 << 16));
  void* p = a.data();
  ColumnMemory b(std::move(a));
  CHECK(b.data() == p);
  CHECK(a.data() == nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is defined
  ColumnMemory c;
  CHECK(grow_and_check(c, 100, 100));
  c = std::move(b);  // c's own heap block is freed here (ASan would report a leak otherwise)
  CHECK(c.data() == p);
}

}  // namespace
