// SPDX-License-Identifier: Apache-2.0
// Ring buffer stress test: N producers, one consumer, exactly-once and per-producer order.
#include "selftest.h"

#include <atomic>
#include <thread>
#include <vector>

#include "mpsc_ring.h"

namespace xfast {

namespace {
struct Item {
  uint32_t producer;
  uint64_t seq;
};
}  // namespace

RingStressResult ring_stress(int producers, uint64_t per_producer, std::size_t capacity) {
  RingStressResult res;
  MpscRing<Item> ring(capacity);
  std::atomic<uint64_t> full{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      uint64_t retries = 0;
      for (uint64_t i = 0; i < per_producer; ++i) {
        while (!ring.try_push(Item{static_cast<uint32_t>(p), i})) {
          ++retries;
          std::this_thread::yield();
        }
      }
      full.fetch_add(retries, std::memory_order_relaxed);
    });
  }
  std::vector<uint64_t> next(static_cast<std::size_t>(producers), 0);
  const uint64_t total = per_producer * static_cast<uint64_t>(producers);
  Item it{};
  while (res.popped < total) {
    if (!ring.try_pop(it)) {
      std::this_thread::yield();
      continue;
    }
    ++res.popped;
    if (it.producer >= next.size()) {
      if (res.error.empty()) res.error = "record from an unknown producer";
      continue;
    }
    if (it.seq != next[it.producer] && res.error.empty()) {
      res.error = "producer " + std::to_string(it.producer) + ": expected " +
                  std::to_string(next[it.producer]) + ", got " + std::to_string(it.seq);
    }
    next[it.producer] = it.seq + 1;
  }
  for (auto& t : threads) t.join();
  if (ring.try_pop(it) && res.error.empty()) res.error = "extra record after all were popped";
  res.full_retries = full.load();
  res.ok = res.error.empty();
  return res;
}

}  // namespace xfast
