// Numbers and durations from the command line, the environment and files
// (lockstep/mc/numbers.hpp).
#include "lockstep/mc/numbers.hpp"

namespace lockstep::mc {

std::optional<std::uint64_t> parse_number(std::string_view s, std::string* why, std::uint64_t max) {
  auto refuse = [&](std::string what) -> std::optional<std::uint64_t> {
    if (why != nullptr) *why = std::move(what);
    return std::nullopt;
  };
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return refuse("not a whole number");
  std::uint64_t v = 0;
  bool over = false;
  for (char c : s) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10 || d > max) over = true;  // keeps scanning: the message is the same
    if (!over) v = v * 10 + d;
  }
  if (over) return refuse("larger than " + std::to_string(max));
  return v;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s, std::string* why) {
  using std::chrono::milliseconds;
  struct unit {
    std::string_view name;
    std::uint64_t ms;
  };
  for (const unit u : {unit{"ms", 1}, unit{"s", 1000}, unit{"m", 60000}}) {
    if (s.size() <= u.name.size() || s.substr(s.size() - u.name.size()) != u.name) continue;
    const std::string_view digits = s.substr(0, s.size() - u.name.size());
    if (digits.back() < '0' || digits.back() > '9') continue;  // "5ms" is not "5m" + "s"
    const auto max = static_cast<std::uint64_t>(max_duration.count()) / u.ms;
    std::string problem;
    const auto n = parse_number(digits, &problem, max);
    if (!n) {
      if (why != nullptr)
        *why = problem.rfind("larger", 0) == 0 ? "longer than 100 years" : "not a whole number of " +
                                                                              std::string(u.name);
      return std::nullopt;
    }
    return milliseconds(static_cast<milliseconds::rep>(*n * u.ms));
  }
  if (why != nullptr) *why = "not a duration (500ms, 30s, 2m)";
  return std::nullopt;
}

}  // namespace lockstep::mc
