// SPDX-License-Identifier: Apache-2.0
// MpscRing: single-thread semantics, record ownership by id, and multi-producer stress (the test
// ThreadSanitizer runs).
#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "check.h"
#include "mpsc_ring.h"
#include "selftest.h"

namespace {

using xfast::MpscRing;

// A record that names what it carries: an id plus a checksum of it, so a torn or stale copy is
// detected, and a per-id ledger shows each record popped exactly once.
struct Tracked {
  uint32_t producer;
  uint64_t seq;
  uint64_t check;
};

uint64_t checksum(uint32_t producer, uint64_t seq) {
  return (seq * 0x9e3779b97f4a7c15ull) ^ (uint64_t{producer} << 48) ^ 0x5bd1e995ull;
}

Tracked make(uint32_t producer, uint64_t seq) { return {producer, seq, checksum(producer, seq)}; }

TEST(empty_pop_fails) {
  MpscRing<uint64_t> ring(8);
  uint64_t v = 42;
  CHECK(!ring.try_pop(v));
  CHECK_EQ(v, uint64_t{42});  // untouched
  CHECK(!ring.ready());
  CHECK_EQ(ring.backlog(), std::size_t{0});
  CHECK_EQ(ring.consumed(), uint64_t{0});
}

TEST(capacity_rounds_up_to_power_of_two) {
  CHECK_EQ(MpscRing<int>(0).capacity(), std::size_t{2});
  CHECK_EQ(MpscRing<int>(1).capacity(), std::size_t{2});
  CHECK_EQ(MpscRing<int>(2).capacity(), std::size_t{2});
  CHECK_EQ(MpscRing<int>(3).capacity(), std::size_t{4});
  CHECK_EQ(MpscRing<int>(8).capacity(), std::size_t{8});
  CHECK_EQ(MpscRing<int>(9).capacity(), std::size_t{16});
  CHECK_EQ(MpscRing<int>(1000).capacity(), std::size_t{1024});
  CHECK_EQ(MpscRing<int>(16384).capacity(), std::size_t{16384});
}

TEST(fill_to_capacity_then_push_fails) {
  MpscRing<uint64_t> ring(5);  // rounds to 8
  for (uint64_t i = 0; i < 8; ++i) {
    uint64_t pos = 99;
    CHECK(ring.try_push(i, &pos));
    CHECK_EQ(pos, i);
    CHECK_EQ(ring.backlog(), static_cast<std::size_t>(i + 1));
  }
  CHECK(!ring.try_push(100));
  CHECK_EQ(ring.backlog(), std::size_t{8});
  uint64_t v = 0;
  CHECK(ring.try_pop(v));
  CHECK_EQ(v, uint64_t{0});
  CHECK(ring.try_push(8));  // one slot freed, one push fits
  CHECK(!ring.try_push(101));
}

TEST(fifo_order) {
  MpscRing<uint64_t> ring(16);
  for (uint64_t i = 0; i < 10; ++i) CHECK(ring.try_push(i * 7));
  for (uint64_t i = 0; i < 10; ++i) {
    CHECK(ring.ready());
    uint64_t v = 0;
    CHECK(ring.try_pop(v));
    CHECK_EQ(v, i * 7);
  }
  CHECK(!ring.ready());
  CHECK_EQ(ring.consumed(), uint64_t{10});
}

TEST(wraparound_over_many_laps) {
  MpscRing<Tracked> ring(4);
  uint64_t pushed = 0;
  uint64_t popped = 0;
  std::mt19937 rng(1);
  // Irregular fill levels so every cell sees pushes and pops at every lap offset.
  while (popped < 10000) {
    const int burst = static_cast<int>(rng() % 5);
    for (int i = 0; i < burst; ++i) {
      if (ring.try_push(make(0, pushed))) ++pushed;
    }
    const int drain = static_cast<int>(rng() % 5);
    for (int i = 0; i < drain; ++i) {
      Tracked t{};
      if (!ring.try_pop(t)) break;
      CHECK_EQ(t.seq, popped);
      CHECK_EQ(t.check, checksum(0, t.seq));
      ++popped;
    }
    CHECK_EQ(ring.backlog(), static_cast<std::size_t>(pushed - popped));
    CHECK(pushed - popped <= ring.capacity());
  }
  CHECK_EQ(ring.consumed(), popped);
}

TEST(ready_tracks_published_records) {
  MpscRing<int> ring(2);
  CHECK(!ring.ready());
  CHECK(ring.try_push(1));
  CHECK(ring.ready());
  int v = 0;
  CHECK(ring.try_pop(v));
  CHECK(!ring.ready());
}

TEST(refused_push_leaves_record_with_caller) {
  MpscRing<Tracked> ring(2);
  CHECK(ring.try_push(make(1, 0)));
  CHECK(ring.try_push(make(1, 1)));
  const Tracked extra = make(1, 2);
  CHECK(!ring.try_push(extra));
  Tracked t{};
  CHECK(ring.try_pop(t));
  CHECK_EQ(t.seq, uint64_t{0});
  CHECK(ring.try_pop(t));
  CHECK_EQ(t.seq, uint64_t{1});
  CHECK(!ring.try_pop(t));  // the refused record never entered the ring
}

TEST(selftest_ring_stress) {
  const auto r = xfast::ring_stress(4, 20000, 64);
  CHECK(r.ok);
  CHECK_EQ(r.error, std::string());
  CHECK_EQ(r.popped, uint64_t{80000});
}

// N producers with random yields against one consumer that also yields at random: each record
// arrives exactly once, intact, and each producer's records in order.
TEST(producers_with_random_yields) {
  constexpr uint32_t kProducers = 4;
  constexpr uint64_t kPerProducer = 20000;
  MpscRing<Tracked> ring(16);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (uint32_t p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      std::minstd_rand rng(p + 1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (uint64_t i = 0; i < kPerProducer; ++i) {
        while (!ring.try_push(make(p, i))) std::this_thread::yield();
        if (rng() % 64 == 0) std::this_thread::yield();
      }
    });
  }
  go.store(true, std::memory_order_release);
  std::vector<uint64_t> next(kProducers, 0);
  std::minstd_rand rng(99);
  uint64_t popped = 0;
  int bad = 0;
  while (popped < kProducers * kPerProducer) {
    Tracked t{};
    if (!ring.try_pop(t)) {
      std::this_thread::yield();
      continue;
    }
    ++popped;
    if (t.producer >= kProducers || t.check != checksum(t.producer, t.seq) ||
        t.seq != next[t.producer]) {
      ++bad;
      continue;
    }
    ++next[t.producer];
    if (rng() % 128 == 0) std::this_thread::yield();
  }
  for (auto& t : threads) t.join();
  CHECK_EQ(bad, 0);
  for (uint32_t p = 0; p < kProducers; ++p) CHECK_EQ(next[p], kPerProducer);
  Tracked t{};
  CHECK(!ring.try_pop(t));
  CHECK_EQ(ring.backlog(), std::size_t{0});
}

}  // namespace
