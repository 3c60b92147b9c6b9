// SPDX-License-Identifier: Apache-2.0
#include "column_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace xfast {
namespace {

// What free_released_column needs to know, kept just before the data (64 bytes keep the data
// aligned for any column type and on its own cache line).
struct Header {
  std::size_t mapped_bytes;  // 0: the block came from malloc
};
constexpr std::size_t kHeaderBytes = 64;
static_assert(sizeof(Header) <= kHeaderBytes);

// Under this a buffer stays on the heap: most tags hold a few events, and a mapping per column
// would cost a syscall and a 4 KiB page each.
constexpr std::size_t kMapAtBytes = 64 * 1024;
// From this size on the kernel may back the mapping with 2 MiB pages: 512x fewer faults.
constexpr std::size_t kHugePageBytes = 2 * 1024 * 1024;

Header* header_of(void* data) {
  return reinterpret_cast<Header*>(static_cast<char*>(data) - kHeaderBytes);
}

std::size_t page_round(std::size_t bytes) {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

void ask_for_huge_pages(void* base, std::size_t bytes) {
#ifdef MADV_HUGEPAGE
  // Advice only: a kernel without transparent huge pages keeps small pages, which is still correct.
  if (bytes >= kHugePageBytes) madvise(base, bytes, MADV_HUGEPAGE);
#else
  (void)base;
  (void)bytes;
#endif
}

// A new mapping of at least total_bytes, its header filled in; throws std::bad_alloc.
char* map_block(std::size_t total_bytes) {
  const std::size_t mapped = page_round(total_bytes);
  void* base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  ask_for_huge_pages(base, mapped);
  reinterpret_cast<Header*>(base)->mapped_bytes = mapped;
  return static_cast<char*>(base);
}

}  // namespace

ColumnMemory::ColumnMemory(ColumnMemory&& other) noexcept
    : data_(other.data_), capacity_(other.capacity_) {
  other.data_ = nullptr;
  other.capacity_ = 0;
}

ColumnMemory& ColumnMemory::operator=(ColumnMemory&& other) noexcept {
  if (this != &other) {
    free_released_column(data_);
    data_ = other.data_;
    capacity_ = other.capacity_;
    other.data_ = nullptr;
    other.capacity_ = 0;
  }
  return *this;
}

ColumnMemory::~ColumnMemory() { free_released_column(data_); }

void ColumnMemory::reserve(std::size_t bytes) {
  if (bytes <= capacity_) return;
  const std::size_t want = std::max({bytes, capacity_ * 2, std::size_t{256}}) + kHeaderBytes;
  char* base = data_ == nullptr ? nullptr : reinterpret_cast<char*>(header_of(data_));
  const std::size_t mapped = base == nullptr ? 0 : header_of(data_)->mapped_bytes;
  char* grown;
  if (mapped != 0) {
#ifdef MREMAP_MAYMOVE
    // Moves page-table entries, never the bytes: growing a 100 MB column copies nothing.
    const std::size_t new_mapped = page_round(want);
    void* p = mremap(base, mapped, new_mapped, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) throw std::bad_alloc();
    grown = static_cast<char*>(p);
    ask_for_huge_pages(grown, new_mapped);
    reinterpret_cast<Header*>(grown)->mapped_bytes = new_mapped;
#else
    grown = map_block(want);
    std::memcpy(grown + kHeaderBytes, data_, capacity_);
    munmap(base, mapped);
#endif
  } else if (want >= kMapAtBytes) {
    grown = map_block(want);
    if (data_ != nullptr) std::memcpy(grown + kHeaderBytes, data_, capacity_);
    std::free(base);
  } else {
    void* p = std::realloc(base, want);
    if (p == nullptr) throw std::bad_alloc();
    grown = static_cast<char*>(p);
    reinterpret_cast<Header*>(grown)->mapped_bytes = 0;
  }
  data_ = grown + kHeaderBytes;
  const std::size_t total = reinterpret_cast<Header*>(grown)->mapped_bytes;
  capacity_ = (total != 0 ? total : want) - kHeaderBytes;
}

void* ColumnMemory::release(std::size_t used) {
  void* out = data_;
  if (out == nullptr) return nullptr;
  Header* h = header_of(out);
  const std::size_t keep = page_round(used + kHeaderBytes);
  if (h->mapped_bytes > keep) {
    // The untouched tail holds no memory, but the address space of a doubled column is returned
    // here rather than kept as long as numpy keeps the array.
    munmap(reinterpret_cast<char*>(h) + keep, h->mapped_bytes - keep);
    h->mapped_bytes = keep;
  }
  data_ = nullptr;
  capacity_ = 0;
  return out;
}

void free_released_column(void* data) noexcept {
  if (data == nullptr) return;
  Header* h = header_of(data);
  if (h->mapped_bytes != 0) {
    munmap(h, h->mapped_bytes);
  } else {
    std::free(h);
  }
}

}  // namespace xfast
