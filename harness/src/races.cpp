// The engine's side of the data-race detector (detectors/races.hpp): turning
// it on, and the report of a race it finds.
#include <exception>
#include <string>

#include "lockstep/mc/hooks.hpp"
#include "runtime.hpp"
#include "text.hpp"

namespace lockstep::mc::rt {

void runtime::plain_access(const void* addr, std::size_t size, bool write, const std::source_location& loc) {
  (void)size;
  if (aborting_) return;
  race_detector& races = detector<race_detector>();
  if (!races.on()) {
    // Turned on now: the synchronisation so far was not tracked, so this
    // execution starts over with the clocks on from its first step (the
    // strategy repeats the same choices; see strategy::restart()).
    races.turn_on();
    restart_ = true;
    aborting_ = true;
    if (!no_throw()) unwind_now();
    return;
  }
  const std::optional<data_race> race = races.on_plain_access(cur_, objects_.intern(addr), addr, write, loc);
  if (!race) return;
  std::string msg, details;
  describe_race(*race, msg, details);
  if (defer_bug(bug_kind::data_race, msg, details)) return;
  if (std::uncaught_exceptions() > 0) {
    fail(bug_kind::data_race, std::move(msg), std::move(details));
    return;
  }
  fail_and_unwind(bug_kind::data_race, std::move(msg), std::move(details));
}

void runtime::describe_race(const data_race& r, std::string& msg, std::string& details) const {
  const std::string what = object_label(r.addr, 0);
  const std::string name = what == "object" ? std::string("plain memory") : what;
  auto line = [](const std::source_location& l, const char* unknown) {
    return l.line() != 0 ? loc_text(l) : std::string(unknown);
  };
  auto access_text = [&](std::uint32_t t, const std::source_location& l, bool w) {
    return thread_label(t) + (w ? " wrote " : " read ") + name + " at " +
           line(l, "an unknown line (an implicit read: use load())");
  };
  details = "  first:  " + access_text(r.other, r.other_loc, r.other_write) + "\n" +
            "  second: " + access_text(r.thread, r.loc, r.write) + "\n" +
            "  Nothing orders the two accesses: no lock held by both, no atomic or "
            "join between them. Protect the data with one mutex, make it an "
            "mc::atomic, or order the threads (join, a release/acquire flag).\n";
  msg = "data race on " + name + ": " + thread_label(r.thread) + (r.write ? " writes" : " reads") + " it at " +
        line(r.loc, "an unknown line") + " while " + thread_label(r.other) + (r.other_write ? " wrote" : " read") +
        " it at " + line(r.other_loc, "an unknown line") + " with no happens-before between them";
}

void runtime::plain_forget(const void* addr) noexcept {
  detector<race_detector>().on_plain_forget(objects_.find(addr));
}

}  // namespace lockstep::mc::rt
