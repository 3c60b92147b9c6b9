// SPDX-License-Identifier: Apache-2.0
// ColumnMemory: the storage of one reader column, grown by doubling without copying what it holds
// and handed to numpy as is.
#pragma once

#include <cstddef>
#include <memory>

namespace xfast {

// An untyped buffer of `capacity()` bytes that only the reader's columns use.
//
// Why not chunks or std::vector: a 10k-histogram file fills ~100 MB of bucket columns. Chunks that
// are joined into one array at the end touch every page twice (fault, zero, copy, unmap: perf put
// ~60 % of that read in the kernel); a vector copies on every doubling. Here a buffer of 64 KiB or
// more lives in its own anonymous mapping that mremap grows in place or by moving page tables
// (Linux; elsewhere realloc), with transparent huge pages asked for once it reaches 2 MiB, so each
// page is faulted in once and the finished column is the array numpy gets.
class ColumnMemory {
 public:
  ColumnMemory() = default;
  ColumnMemory(const ColumnMemory&) = delete;
  ColumnMemory& operator=(const ColumnMemory&) = delete;
  ColumnMemory(ColumnMemory&& other) noexcept;
  ColumnMemory& operator=(ColumnMemory&& other) noexcept;
  ~ColumnMemory();

  void* data() const { return data_; }
  std::size_t capacity() const { return capacity_; }

  // Grows to at least `bytes` (doubling), keeping the contents. Throws std::bad_alloc.
  void reserve(std::size_t bytes);

  // Gives up the buffer, trimmed to `used` bytes, to a caller that frees it with
  // free_released_column(); nullptr when nothing was ever reserved. The buffer is empty after.
  void* release(std::size_t used);

 private:
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// Frees what ColumnMemory::release returned (numpy's capsule calls it). nullptr is a no-op.
void free_released_column(void* data) noexcept;

struct ReleasedColumnDeleter {
  void operator()(void* data) const noexcept { free_released_column(data); }
};
// A released column's elements.
template <typename T>
using ReleasedColumn = std::unique_ptr<T[], ReleasedColumnDeleter>;

}  // namespace xfast
