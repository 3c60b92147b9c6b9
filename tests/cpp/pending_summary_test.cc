// SPDX-License-Identifier: Apache-2.0
// PendingSummary: settled once (first result stands), freed by its last owner, and one winner
// when two threads race to settle it.
#include "pending_summary.h"

#include <atomic>
#include <string>
#include <thread>

#include "check.h"

namespace {

using xfast::PendingSummary;
using State = PendingSummary::State;

TEST(fill_settles_once_and_keeps_the_first_result) {
  PendingSummary* p = PendingSummary::create();
  CHECK(!p->settled());
  CHECK(p->state() == State::kWaiting);
  CHECK(p->fill("abc"));
  CHECK(!p->fail());
  CHECK(!p->fill("other"));
  CHECK(p->state() == State::kFilled);
  CHECK_EQ(p->summary(), std::string("abc"));
  p->release();
  p->release();  // the last owner frees it (LeakSanitizer and ASan check both ways)
}

TEST(fail_settles_once) {
  PendingSummary* p = PendingSummary::create();
  CHECK(p->fail());
  CHECK(!p->fill("late"));
  CHECK(p->state() == State::kFailed);
  CHECK(p->summary().empty());
  p->release();
  p->release();
}

TEST(either_owner_may_release_last_on_another_thread) {
  for (int round = 0; round < 200; ++round) {
    PendingSummary* p = PendingSummary::create();
    std::thread encoder([p, round] {
      if (round % 2 == 0) {
        p->fill(std::string(100, 'x'));
      } else {
        p->fail();
      }
      p->release();
    });
    while (!p->settled()) std::this_thread::yield();
    if (p->state() == State::kFilled) CHECK_EQ(p->summary().size(), std::size_t{100});
    p->release();
    encoder.join();
  }
}

TEST(two_settlers_race_and_exactly_one_wins) {
  for (int round = 0; round < 200; ++round) {
    PendingSummary* p = PendingSummary::create();
    std::atomic<int> wins{0};
    std::thread a([&] { wins += p->fill("a") ? 1 : 0; });
    std::thread b([&] { wins += p->fail() ? 1 : 0; });
    a.join();
    b.join();
    CHECK_EQ(wins.load(), 1);
    CHECK(p->settled());
    p->release();
    p->release();
  }
}

}  // namespace
