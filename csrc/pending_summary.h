// SPDX-License-Identifier: Apache-2.0
// PendingSummary: a Summary event's place in a file, reserved at the call, filled by an encoder.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

namespace xfast {

// PendingSummary
//
// The payload of a RecordKind::kPending record. A media call (add_image, add_audio, ...) pushes
// that record at call time, so its event takes its place in the file's order there and then,
// while the PNG/GIF/WAV encoding runs later on an encoder thread. The encoder settles it once:
// fill() with the serialized Summary, or fail() when the encode raised. The writer thread, on
// reaching the record, waits until it is settled (EventWriter::settle wakes it), writes the
// Summary (or nothing, for a failed one) and goes on with the records behind it.
//
// Ownership: two references, the record's and the encoder's handle's; each owner calls release()
// once and the last one deletes the object. A record dropped unwritten (a full ring in drop
// mode, a closed writer) releases its reference through free_record_payload.
//
// Threads: fill/fail from one settling thread (a second settle is ignored: the first result
// stands), state() from any thread, summary() by the writer thread once state() is kFilled.
class PendingSummary {
 public:
  enum class State : uint32_t { kWaiting, kFilled, kFailed };

  // A new, unsettled slot holding two references.
  static PendingSummary* create() { return new PendingSummary(); }

  PendingSummary(const PendingSummary&) = delete;
  PendingSummary& operator=(const PendingSummary&) = delete;

  // Settles with the serialized Summary. Returns false (and keeps the first result) if the slot
  // was already settled.
  bool fill(std::string summary) {
    if (claimed_.exchange(true, std::memory_order_relaxed)) return false;
    summary_ = std::move(summary);
    // release: publishes summary_ to the writer thread's acquire load in state().
    state_.store(State::kFilled, std::memory_order_release);
    return true;
  }

  // Settles as failed: the writer thread skips the event. Same return as fill().
  bool fail() {
    if (claimed_.exchange(true, std::memory_order_relaxed)) return false;
    // release: pairs with state()'s acquire, like fill's (nothing else to publish here).
    state_.store(State::kFailed, std::memory_order_release);
    return true;
  }

  // acquire: pairs with the release store in fill()/fail().
  State state() const { return state_.load(std::memory_order_acquire); }
  bool settled() const { return state() != State::kWaiting; }

  // Writer thread, after state() returned kFilled.
  const std::string& summary() const { return summary_; }

  // Drops one reference; the last one frees the slot. Cost: one atomic RMW.
  void release() {
    // acq_rel: the last owner must see every write the other owner made before its release.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  PendingSummary() = default;
  ~PendingSummary() = default;

  std::atomic<uint32_t> refs_{2};
  std::atomic<bool> claimed_{false};
  std::atomic<State> state_{State::kWaiting};
  std::string summary_;
};

}  // namespace xfast
