// SPDX-License-Identifier: Apache-2.0
// MpscRing: a bounded lock-free multi-producer / single-consumer ring of fixed-size records.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "platform.h"

namespace xfast {

// MpscRing<T>
//
// Dmitry Vyukov's bounded queue, restricted to one consumer. Each cell carries a sequence number:
//   seq == pos            the cell is free for the producer that claims position `pos`;
//   seq == pos + 1        the cell holds the record pushed at `pos`, ready for the consumer;
//   seq == pos + capacity the consumer has emptied it for the producer of the next lap.
// Producers claim positions with one CAS on tail_; the consumer alone advances head_.
//
// Full/empty: try_push fails when the cell at the claimed position has not been emptied yet
// (the ring holds `capacity` records); try_pop fails when the cell at head_ is not yet
// published, which includes a producer that claimed it but has not finished writing: records
// are always consumed in claim order.
//
// T must be trivially copyable (records are plain values; ownership of any pointer they carry
// passes to whoever pops them). Capacity is rounded up to a power of two.
template <typename T>
class MpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "records are copied with plain stores");

 public:
  explicit MpscRing(std::size_t capacity)
      : capacity_(round_up_pow2(capacity < 2 ? 2 : capacity)),
        mask_(capacity_ - 1),
        cells_(new Cell[capacity_]) {
    for (std::size_t i = 0; i < capacity_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }

  MpscRing(const MpscRing&) = delete;
  MpscRing& operator=(const MpscRing&) = delete;

  // Any thread. Returns false (and leaves `v` with the caller) when the ring is full.
  // Cost: one CAS on the shared tail plus two stores into the claimed cell.
  // On success *pos_out (when given) receives the position the record took.
  [[nodiscard]] bool try_push(const T& v, uint64_t* pos_out = nullptr) {
    uint64_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos & mask_];
      // acquire: pairs with the consumer's release store of seq, so our write of c.value cannot
      // race with its read of the previous lap's record.
      const uint64_t seq = c.seq.load(std::memory_order_acquire);
      const auto dif = static_cast<int64_t>(seq - pos);
      if (dif == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.value = v;
          // release: publishes c.value to the consumer's acquire load in try_pop.
          c.seq.store(pos + 1, std::memory_order_release);
          if (pos_out != nullptr) *pos_out = pos;
          return true;
        }
      } else if (dif < 0) {
        return false;
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  // Consumer thread only. Returns false when the next record in claim order is not ready.
  [[nodiscard]] bool try_pop(T& out) {
    Cell& c = cells_[head_ & mask_];
    // acquire: pairs with the producer's release store in try_push.
    const uint64_t seq = c.seq.load(std::memory_order_acquire);
    if (seq != head_ + 1) return false;
    out = c.value;
    // release: hands the emptied cell to the producer of the next lap (its acquire load).
    c.seq.store(head_ + capacity_, std::memory_order_release);
    ++head_;
    return true;
  }

  // Consumer thread only: true when try_pop would succeed now.
  bool ready() const {
    return cells_[head_ & mask_].seq.load(std::memory_order_acquire) == head_ + 1;
  }

  // Consumer thread only: records claimed by producers but not yet popped (some may still be
  // being written). Used for the high-water mark.
  std::size_t backlog() const {
    return static_cast<std::size_t>(tail_.load(std::memory_order_relaxed) - head_);
  }

  // Consumer thread only: records the consumer has popped so far.
  uint64_t consumed() const { return head_; }

  std::size_t capacity() const { return capacity_; }

 private:
  struct alignas(kCacheLineSize) Cell {
    std::atomic<uint64_t> seq;
    T value;
  };

  static std::size_t round_up_pow2(std::size_t v) {
    std::size_t p = 1;
    while (p < v) p <<= 1;
    return p;
  }

  const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(kCacheLineSize) std::atomic<uint64_t> tail_{0};  // shared by producers
  alignas(kCacheLineSize) uint64_t head_ = 0;              // consumer-private
};

}  // namespace xfast
