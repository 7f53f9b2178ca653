// lockstep merge SHARD.json... — the reports of the shards of one check
// (lockstep check MODEL --shard I/N --report-json F), combined into one
// verdict: what a runner that spreads a search (ctest, Bazel, a CI matrix, a
// Kubernetes Indexed Job) runs as its last step.
//
// The shards must be of the same model, explored with the same options (the
// report's "options": strategy, seed, bounds, fairness, stack size, version),
// and cover every index 0..N-1 exactly once; anything else is bad input. The
// merged verdict is a bug if any shard found one (the lowest shard's is
// shown), complete only when every shard covered its part, incomplete (with
// each stopped shard's reason) otherwise.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli.hpp"

namespace lockstep::cli {

const char* const kMergeHelp =
    "usage: lockstep merge SHARD.json... [--report-json FILE] [--quiet]\n"
    "\n"
    "Combines the reports of the shards of one check (each written by\n"
    "lockstep check MODEL --shard I/N --report-json F, on any machine, with any\n"
    "--jobs) into one verdict: a bug if any shard found one, complete only when\n"
    "every shard 0..N-1 covered its part, incomplete otherwise (naming the\n"
    "shards that stopped and why). The shards must be of one model and explored\n"
    "with the same options; each index must be given exactly once.\n"
    "\n"
    "options:\n"
    "  --report-json FILE  write the merged result as JSON (the check's fields,\n"
    "                      plus \"shards\")\n"
    "  --quiet             print only the verdict line\n"
    "\n"
    "exit codes: 0 no bug and every shard complete (or a sampled search: no\n"
    "bug), 1 a bug, or a shard that did not cover its part, 2 bad input (a\n"
    "report that cannot be read, shards that do not belong together, a shard\n"
    "missing or given twice)\n";

namespace {

// A JSON value: enough of JSON for the reports the tool writes, read as
// hostile input (bounded depth and size, one-line errors).
struct json {
  enum class kind : unsigned char { null, boolean, number, string, array, object };
  kind k = kind::null;
  bool b = false;
  std::string text;  // a string's value, or a number as written
  std::vector<json> items;
  // A named struct, not std::pair: a pair of an incomplete json cannot be
  // instantiated here (libstdc++ checks its element types when the vector's
  // destructor is, and clang instantiates that inside this class).
  struct member;
  std::vector<member> members;

  const json* get(std::string_view key) const;
};

struct json::member {
  std::string name;
  json value;
};

const json* json::get(std::string_view key) const {
  if (k != kind::object) return nullptr;
  for (const auto& [name, v] : members)
    if (name == key) return &v;
  return nullptr;
}

class json_reader {
 public:
  explicit json_reader(std::string_view s) : s_(s) {}
  // The whole input as one value; throws the reason (with the line) if it is not.
  json read() {
    json v = value(0);
    space();
    if (pos_ != s_.size()) fail("unexpected text after the value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;
  [[noreturn]] void fail(const std::string& what) const {
    const auto line = 1 + std::count(s_.begin(), s_.begin() + static_cast<std::ptrdiff_t>(std::min(pos_, s_.size())), '\n');
    throw std::string("not a lockstep report (line " + std::to_string(line) + ": " + what + ")");
  }
  void space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  bool take(char c) {
    space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!take(c)) fail(std::string("expected '") + c + "'");
  }
  bool word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  json value(int depth) {
    if (depth > kMaxDepth) fail("nested too deeply");
    space();
    if (pos_ >= s_.size()) fail("ends early");
    json v;
    const char c = s_[pos_];
    if (c == '{') {
      ++pos_;
      v.k = json::kind::object;
      if (take('}')) return v;
      do {
        space();
        if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a member name");
        std::string name = string();
        if (v.get(name) != nullptr) fail("the member \"" + name.substr(0, 40) + "\" is given twice");
        expect(':');
        v.members.push_back({std::move(name), value(depth + 1)});
      } while (take(','));
      expect('}');
    } else if (c == '[') {
      ++pos_;
      v.k = json::kind::array;
      if (take(']')) return v;
      do v.items.push_back(value(depth + 1));
      while (take(','));
      expect(']');
    } else if (c == '"') {
      v.k = json::kind::string;
      v.text = string();
    } else if (word("true") || word("false")) {
      v.k = json::kind::boolean;
      v.b = s_[pos_ - 1] == 'e' && s_.substr(pos_ - 4, 4) == "true";
    } else if (word("null")) {
      v.k = json::kind::null;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.k = json::kind::number;
      const std::size_t start = pos_;
      while (pos_ < s_.size() && std::string_view("+-0123456789.eE").find(s_[pos_]) != std::string_view::npos) ++pos_;
      v.text = std::string(s_.substr(start, pos_ - start));
    } else {
      fail(std::string("unexpected character '") + (c >= ' ' && c < 127 ? std::string(1, c) : "?") + "'");
    }
    return v;
  }
  std::string string() {
    ++pos_;  // the opening quote
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) fail("a string does not end");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("a control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("a string does not end");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (pos_ + 4 > s_.size()) fail("a bad \\u escape");
          unsigned x = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = s_[pos_++];
            const int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (d < 0) fail("a bad \\u escape");
            x = x * 16 + static_cast<unsigned>(d);
          }
          if (x < 0x80) {
            out += static_cast<char>(x);
          } else if (x < 0x800) {
            out += static_cast<char>(0xc0 | (x >> 6));
            out += static_cast<char>(0x80 | (x & 0x3f));
          } else {
            out += static_cast<char>(0xe0 | (x >> 12));
            out += static_cast<char>(0x80 | ((x >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (x & 0x3f));
          }
          break;
        }
        default: fail("a bad escape in a string");
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// The value as compact JSON (member order kept).
std::string write_json(const json& v) {
  switch (v.k) {
    case json::kind::null: return "null";
    case json::kind::boolean: return v.b ? "true" : "false";
    case json::kind::number: return v.text;
    case json::kind::string: return q(v.text);
    case json::kind::array: {
      std::string o = "[";
      for (std::size_t i = 0; i < v.items.size(); ++i) o += (i ? ", " : "") + write_json(v.items[i]);
      return o + "]";
    }
    case json::kind::object: {
      std::string o = "{";
      for (std::size_t i = 0; i < v.members.size(); ++i)
        o += (i ? ", " : "") + q(v.members[i].name) + ": " + write_json(v.members[i].value);
      return o + "}";
    }
  }
  return "null";
}

constexpr std::size_t kMaxReport = 512u << 20;  // a report with a long failing execution stays far below

std::string read_report(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw usage_error{path + ": " + errno_text(errno)};
  if (S_ISDIR(st.st_mode)) throw usage_error{path + ": is a directory, not a report"};
  std::ifstream f(path, std::ios::binary);
  if (!f) throw usage_error{path + ": cannot be read"};
  std::string text;
  char buf[1 << 16];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(f.gcount()));
    if (text.size() > kMaxReport) throw usage_error{path + ": larger than any report (over 512 MiB)"};
  }
  return text;
}

// One shard's report, checked for the fields merge needs.
struct shard_report {
  std::string path;
  json doc;
  std::string model, strategy, options;  // options: as compact JSON, for comparison
  std::uint64_t index = 0, count = 1;
  bool complete = false;                  // its part of the space covered
  const json* bug = nullptr;              // null when none
  std::uint64_t executions = 0, steps = 0;
  std::uint64_t abandoned = 0;  // absent from reports older than the field: 0
  // mc::result::fair_only; absent from a report older than the field, whose
  // search is taken to have met it (as a version 2 checkpoint's).
  bool fair_only = true;
  // mc::result::spurious_bound (none: no wait met it); absent from a report
  // older than the field, whose search is taken to have met its options'
  // spurious_wakeups (1 when they do not say).
  std::optional<std::uint64_t> spurious_bound = 1;
  double seconds = 0;
};

std::uint64_t number(const shard_report& r, const json* v, const char* what) {
  if (v == nullptr || v->k != json::kind::number || v->text.empty() || v->text.size() > 20 ||
      v->text.find_first_not_of("0123456789") != std::string::npos)
    throw usage_error{r.path + ": \"" + what + "\" is missing or not a count"};
  errno = 0;
  const unsigned long long x = std::strtoull(v->text.c_str(), nullptr, 10);
  if (errno != 0) throw usage_error{r.path + ": \"" + what + "\" is too large"};
  return x;
}

const std::string& text(const shard_report& r, const json* v, const char* what) {
  if (v == nullptr || v->k != json::kind::string) throw usage_error{r.path + ": \"" + what + "\" is missing or not text"};
  return v->text;
}

shard_report load(const std::string& path) {
  shard_report r;
  r.path = path;
  try {
    r.doc = json_reader(read_report(path)).read();
  } catch (const std::string& why) {
    throw usage_error{path + ": " + why};
  }
  const json& d = r.doc;
  if (d.k != json::kind::object) throw usage_error{path + ": not a lockstep report (not a JSON object)"};
  if (d.get("results") != nullptr)
    throw usage_error{path + ": a check --all report; merge takes the reports of one model's shards "
                             "(lockstep check MODEL --shard I/N --report-json F)"};
  r.model = text(r, d.get("model"), "model");
  r.strategy = text(r, d.get("strategy"), "strategy");
  const json* options = d.get("options");
  const json* shard = d.get("shard");
  if (options == nullptr || options->k != json::kind::object || shard == nullptr || shard->k != json::kind::object)
    throw usage_error{path + ": has no \"options\" and \"shard\" (written by a lockstep older than merge?)"};
  r.options = write_json(*options);
  // A report of another lockstep: its fields may mean other things (a
  // newer one's, things this one does not know).
  if (const std::string& v = text(r, options->get("lockstep"), "options.lockstep"); v != LOCKSTEP_CLI_VERSION)
    throw usage_error{path + ": written by lockstep " + v.substr(0, 40) + ", this is lockstep " LOCKSTEP_CLI_VERSION +
                      ": merge the reports with the lockstep that wrote them"};
  if (const json* st = options->get("strategy"); st == nullptr || st->k != json::kind::string || st->text != r.strategy)
    throw usage_error{path + ": \"strategy\" and \"options\".\"strategy\" differ"};
  r.index = number(r, shard->get("index"), "shard.index");
  r.count = number(r, shard->get("count"), "shard.count");
  if (r.count > kMaxShards)
    throw usage_error{path + ": a shard of " + std::to_string(r.count) + ": more than " + std::to_string(kMaxShards) +
                      " shards (the most --shard makes) is no report of lockstep's"};
  if (r.count == 0 || r.index >= r.count)
    throw usage_error{path + ": shard " + std::to_string(r.index) + " of " + std::to_string(r.count) + " does not exist"};
  const json* sc = shard->get("complete");
  const json* whole = d.get("complete");
  if (sc == nullptr || sc->k != json::kind::boolean || whole == nullptr || whole->k != json::kind::boolean)
    throw usage_error{path + ": \"complete\" is missing or not true/false"};
  r.complete = r.count == 1 ? whole->b : sc->b;
  const json* bug = d.get("bug");
  if (bug == nullptr || (bug->k != json::kind::null && bug->k != json::kind::object))
    throw usage_error{path + ": \"bug\" is missing"};
  if (bug->k == json::kind::object) {
    r.bug = bug;
    (void)text(r, bug->get("kind"), "bug.kind");
  }
  const std::string& verdict = text(r, d.get("verdict"), "verdict");
  if (verdict != "pass" && verdict != "bug" && verdict != "incomplete")
    throw usage_error{path + ": \"verdict\" is \"" + verdict.substr(0, 40) + "\", not pass, bug or incomplete"};
  if ((verdict == "bug") != (r.bug != nullptr))
    throw usage_error{path + ": the verdict says " + verdict + " but \"bug\" is " + (r.bug != nullptr ? "a bug" : "null")};
  if (verdict == "incomplete" && whole->b) throw usage_error{path + ": the verdict says incomplete but \"complete\" is true"};
  r.executions = number(r, d.get("executions"), "executions");
  r.steps = number(r, d.get("steps"), "steps");
  if (const json* a = d.get("abandoned"); a != nullptr) r.abandoned = number(r, a, "abandoned");
  if (const json* f = d.get("fair_only"); f != nullptr) {
    if (f->k != json::kind::boolean) throw usage_error{path + ": \"fair_only\" is not true/false"};
    r.fair_only = f->b;
  }
  if (const json* w = d.get("spurious_bound"); w != nullptr) {
    r.spurious_bound.reset();
    if (w->k != json::kind::null) r.spurious_bound = number(r, w, "spurious_bound");
  } else if (const json* o = d.get("options"); o != nullptr && o->get("spurious_wakeups") != nullptr) {
    r.spurious_bound = number(r, o->get("spurious_wakeups"), "spurious_wakeups");
  }
  if (const json* s = d.get("seconds"); s != nullptr) {
    if (s->k == json::kind::number) r.seconds = std::strtod(s->text.c_str(), nullptr);
    if (s->k != json::kind::number || !std::isfinite(r.seconds) || r.seconds < 0)
      throw usage_error{path + ": \"seconds\" is not a time (a number, 0 or more)"};
  }
  if (r.abandoned > r.executions)
    throw usage_error{path + ": more executions abandoned (" + std::to_string(r.abandoned) + ") than run (" +
                      std::to_string(r.executions) + ")"};
  return r;
}

// The first option the two reports' options disagree on, in words.
std::string option_difference(const shard_report& a, const shard_report& b) {
  const json* oa = a.doc.get("options");
  const json* ob = b.doc.get("options");
  for (const auto& [name, va] : oa->members) {
    const json* vb = ob->get(name);
    if (vb == nullptr) return name + " (absent from " + b.path + ")";
    if (write_json(va) != write_json(*vb)) return name + " " + write_json(va) + " and " + write_json(*vb);
  }
  for (const auto& [name, vb] : ob->members)
    if (oa->get(name) == nullptr) return name + " (absent from " + a.path + ")";
  return "?";
}

}  // namespace

int cmd_merge(const std::vector<std::string_view>& args) {
  std::vector<std::string> paths;
  std::optional<std::string> out;
  bool quiet = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--report-json") {
      if (i + 1 >= args.size() || args[i + 1].empty()) throw usage_error{"--report-json needs a file name"};
      out = std::string(args[++i]);
    } else if (args[i] == "--quiet" || args[i] == "-q") {
      quiet = true;
    } else if (!args[i].empty() && args[i][0] == '-') {
      throw usage_error{"unknown option '" + std::string(args[i]) + "' for merge (see lockstep help merge)"};
    } else {
      paths.emplace_back(args[i]);
    }
  }
  if (paths.empty()) throw usage_error{"merge needs the shards' reports (lockstep check MODEL --shard I/N --report-json F)"};
  if (out) {  // refuse an unwritable output before reading anything
    struct stat st {};
    if (::stat(out->c_str(), &st) == 0 && S_ISDIR(st.st_mode)) throw usage_error{"cannot write " + *out + ": is a directory"};
  }

  std::vector<shard_report> shards;
  for (const std::string& p : paths) shards.push_back(load(p));
  const shard_report& first = shards.front();
  for (const shard_report& s : shards) {
    if (s.model != first.model)
      throw usage_error{s.path + ": a shard of model '" + s.model + "', " + first.path + " one of '" + first.model + "'"};
    if (s.count != first.count)
      throw usage_error{s.path + ": a shard of " + std::to_string(s.count) + ", " + first.path + " one of " +
                        std::to_string(first.count) + ": they split the space differently"};
    if (s.options != first.options)
      throw usage_error{s.path + ": explored with other options than " + first.path + ": " + option_difference(first, s)};
  }
  std::vector<const shard_report*> by_index(first.count, nullptr);
  for (const shard_report& s : shards) {
    if (by_index[s.index] != nullptr)
      throw usage_error{"shard " + std::to_string(s.index) + " of " + std::to_string(s.count) + " is given twice (" +
                        by_index[s.index]->path + " and " + s.path + ")"};
    by_index[s.index] = &s;
  }
  std::string missing;
  std::size_t n_missing = 0;
  for (std::size_t i = 0; i < by_index.size(); ++i) {
    if (by_index[i] != nullptr) continue;
    if (++n_missing <= 10) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  }
  if (n_missing > 10) missing += ", ... (" + std::to_string(n_missing) + " in all)";
  if (n_missing != 0)
    throw usage_error{"shard" + std::string(n_missing > 1 ? "s " : " ") + missing + " of " +
                      std::to_string(first.count) + " missing: merge needs one report per shard"};

  const bool sampled = sampled_strategy(first.strategy);
  std::uint64_t executions = 0, steps = 0, abandoned = 0;
  double seconds = 0;
  bool fair_only = false;  // a shard left out what only an unfair system does
  std::optional<std::uint64_t> spurious_bound;  // the bound a shard's wait met
  const shard_report* found = nullptr;
  std::string stopped;  // the shards that did not cover their part, and why
  const auto add = [](std::uint64_t& sum, std::uint64_t x, const shard_report& s, const char* what) {
    if (__builtin_add_overflow(sum, x, &sum))
      throw usage_error{s.path + ": its \"" + std::string(what) + "\" and the other shards' add up past 2^64: a damaged report"};
  };
  for (const shard_report* s : by_index) {
    add(executions, s->executions, *s, "executions");
    add(abandoned, s->abandoned, *s, "abandoned");
    add(steps, s->steps, *s, "steps");
    seconds += s->seconds;
    fair_only = fair_only || s->fair_only;
    if (s->spurious_bound) spurious_bound = std::max(spurious_bound.value_or(0), *s->spurious_bound);
    if (!std::isfinite(seconds)) throw usage_error{s->path + ": its \"seconds\" and the other shards' add up past any time"};
    if (s->bug != nullptr && found == nullptr) found = s;
    if (!s->complete && !sampled) {
      const json* bound = s->doc.get("bound");
      stopped += "  shard " + std::to_string(s->index) + " (" + s->path + ") stopped: " +
                 (bound != nullptr && bound->k == json::kind::string ? bound->text
                  : s->bug != nullptr                                 ? std::string("it found a bug")
                                                                      : std::string("no reason given")) +
                 "\n";
    }
  }
  const bool complete = !sampled && found == nullptr && stopped.empty();
  const std::string verdict = found != nullptr ? "bug" : complete || sampled ? "pass" : "incomplete";
  const std::string n = std::to_string(first.count);
  std::string line = first.model + ": " + n + (first.count == 1 ? " shard" : " shards") + " of " + first.strategy + ": ";
  if (found != nullptr) {
    line += std::string("bug: ") + found->bug->get("kind")->text;
  } else if (complete) {
    line += fair_only ? "pass, complete over fair schedules" : "pass, complete";
    if (spurious_bound) line += ", spurious wake-up bound " + std::to_string(*spurious_bound);
  } else if (sampled) {
    line += "pass (sampled, not exhaustive)";
  } else {
    line += "incomplete";
  }
  char tail[96];
  std::snprintf(tail, sizeof tail, " after %llu executions (%.2fs of search in all)",
                static_cast<unsigned long long>(executions), seconds);
  line += tail;

  if (!quiet && found != nullptr) {
    const json& b = *found->bug;
    const json* msg = b.get("message");
    const json* run = b.get("run");
    const json* schedule = found->doc.get("schedule");
    std::printf("%s: %s: %s\n", first.model.c_str(), b.get("kind")->text.c_str(),
                msg != nullptr && msg->k == json::kind::string ? msg->text.c_str() : "");
    std::printf("  found by shard %llu of %s (%s)\n", static_cast<unsigned long long>(found->index), n.c_str(),
                found->path.c_str());
    if (schedule != nullptr && schedule->k == json::kind::string)
      std::printf("  replay: LOCKSTEP_REPLAY=%s\n", schedule->text.c_str());
    if (run != nullptr && run->k == json::kind::string && !run->text.empty())
      std::printf("  run:    %s\n", run->text.c_str());
  } else if (!quiet && !stopped.empty()) {
    std::printf("%s", stopped.c_str());
  }
  std::printf("%s\n", line.c_str());

  if (out) {
    const json* expected = first.doc.get("expected");
    std::string o = "{\n  \"model\": " + q(first.model) + ",\n";
    if (expected != nullptr) o += "  \"expected\": " + write_json(*expected) + ",\n";
    o += "  \"verdict\": " + q(verdict) + ",\n";
    o += "  \"bug\": " + (found != nullptr ? write_json(*found->bug) : std::string("null")) + ",\n";
    o += "  \"strategy\": " + q(first.strategy) + ",\n";
    o += "  \"options\": " + first.options + ",\n";
    o += "  \"shards\": " + n + ",\n";
    o += "  \"complete\": " + std::string(complete ? "true" : "false") + ",\n";
    o += "  \"fair_only\": " + std::string(fair_only && !sampled ? "true" : "false") + ",\n";
    o += "  \"spurious_bound\": " +
         (spurious_bound && !sampled ? std::to_string(*spurious_bound) : std::string("null")) + ",\n";
    o += "  \"executions\": " + std::to_string(executions) + ",\n";
    o += "  \"abandoned\": " + std::to_string(abandoned) + ",\n";
    o += "  \"steps\": " + std::to_string(steps) + ",\n";
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.6f", seconds);
    o += "  \"seconds\": " + std::string(secs) + ",\n";
    const json* schedule = found != nullptr ? found->doc.get("schedule") : nullptr;
    o += "  \"schedule\": " + (schedule != nullptr ? write_json(*schedule) : std::string("null")) + "\n}\n";
    write_file(*out, o);
  }
  return found != nullptr || !(complete || sampled) ? kBug : kOk;
}

}  // namespace lockstep::cli
