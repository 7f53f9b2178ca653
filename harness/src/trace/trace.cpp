// Trace files (lockstep/mc/trace.hpp): the writer, and a reader that refuses
// anything the writer would not have produced with one line saying where and
// what. The reader treats its input as hostile: every index is checked, every
// number is parsed without overflow, and it makes one pass over the text.
#include "lockstep/mc/trace.hpp"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

#include "input/files.hpp"
#include "lockstep/mc/numbers.hpp"
#include "trace/replay_options.hpp"

namespace lockstep::mc {

namespace {

constexpr std::string_view kMagic = "lockstep-trace";
// read_trace_file refuses bigger files (and stops reading at the first byte
// that shows a file is not a trace: /dev/zero costs one buffer). A real
// trace is far smaller: an event line is under a hundred bytes and
// executions are bounded by max-steps.
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 30;
// Text quoted from a damaged file in an error message is cut to this many bytes.
constexpr std::size_t kMaxQuoted = 40;

// ---------------------------------------------------------------- escaping

// Length of the well-formed UTF-8 sequence at s[i] (Unicode table 3-7: no
// overlong forms, no surrogates, nothing above U+10FFFF), 0 if there is none.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  if (b < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (b >= 0xc2 && b <= 0xdf) {
    n = 2;
  } else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  return n;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

std::string hex_byte(unsigned char c) {
  constexpr char digits[] = "0123456789abcdef";
  return {digits[c >> 4], digits[c & 0xf]};
}

// Any bytes as one line of valid UTF-8 without tabs: well-formed UTF-8 is
// kept as it is (names stay readable), everything else is a backslash escape.
std::string escape_bytes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\\': out += "\\\\"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      default: break;
    }
    const std::size_t n = is_control(c) ? 0 : utf8_length(s, i);
    if (n == 0) {
      out += "\\x" + hex_byte(c);
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

// A string field: "-" alone marks an empty field, so a string that is
// literally "-" is written "\-".
std::string escape_field(std::string_view s) { return s == "-" ? "\\-" : escape_bytes(s); }

// Damaged text quoted in an error message: escaped (so the message stays one
// printable line) and cut short at a character boundary.
std::string quote(std::string_view s) {
  std::string_view shown = s;
  if (shown.size() > kMaxQuoted) {
    std::size_t cut = kMaxQuoted;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
    shown = s.substr(0, cut);
  }
  return "\"" + escape_bytes(shown) + (shown.size() < s.size() ? "...\"" : "\"");
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ---------------------------------------------------------------- writing

// start, exit and yield produce no value: their usual 0 is written "-".
bool valueless(op o) { return o == op::start || o == op::exit || o == op::yield; }

void put_header(std::string& out, std::string_view key, std::string_view value) {
  out += key;
  if (!value.empty()) {
    out += ' ';
    out += value;
  }
  out += '\n';
}

std::string location_field(const trace_event& e) {
  if (e.file.empty() && e.line == 0) return "-";
  return escape_field(e.file) + ":" + std::to_string(e.line);
}

void put_event(std::string& out, const trace_event& e) {
  out += std::to_string(e.step);
  out += '\t';
  out += std::to_string(e.thread);
  out += '\t';
  out += op_name(e.o);
  out += '\t';
  out += e.object == 0 ? "-" : std::to_string(e.object);
  out += '\t';
  out += e.value == 0 && valueless(e.o) ? "-" : std::to_string(e.value);
  out += '\t';
  out += e.object_name.empty() ? "-" : escape_field(e.object_name);
  out += '\t';
  out += location_field(e);
  out += '\t';
  out += e.rf == 0 ? "-" : std::to_string(e.rf);  // since version 2
  out += '\n';
}

// ---------------------------------------------------------------- reading

// Error messages name the file as given, minus control characters (the
// message must stay one line).
std::string printable_name(std::string_view name) {
  std::string out;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_control(c))
      out += "\\x" + hex_byte(c);
    else
      out += ch;
  }
  return out;
}

[[noreturn]] void fail_at(std::string_view name, std::size_t line, const std::string& what) {
  std::string text = printable_name(name);
  if (line != 0) text += ":" + std::to_string(line);
  throw trace_error(text + ": " + what, line);
}

// Decimal digits only, no sign, no overflow (the parser of the command line).
template <class T>
std::optional<T> parse_unsigned(std::string_view s) {
  const auto v = parse_number(s, nullptr, static_cast<T>(-1));
  if (!v) return std::nullopt;
  return static_cast<T>(*v);
}

class reader {
 public:
  reader(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  trace parse() {
    if (text_.empty()) fail(1, "empty file: not a lockstep trace");
    check_text();
    read_version();
    trace t;
    t.model = string_value(header("model"), "model");
    if (version_ >= 3) t.test = string_value(header("test"), "test");
    t.lockstep_version = string_value(header("lockstep"), "lockstep version");
    t.strategy = string_value(header("strategy"), "strategy");
    if (!parse_strategy(t.strategy) && t.strategy != "source-dpor" && t.strategy != "replay on OS threads")
      fail("unknown strategy " + quote(t.strategy));
    t.seed = number<std::uint64_t>(header("seed"), "seed");
    detail::for_each_shaping_option([&](const detail::shaping_option_names& n, auto, auto member) {
      using T = std::remove_reference_t<decltype(t.*member)>;
      if constexpr (std::is_same_v<T, memory_model>) {
        if (version_ < 2) {  // version 1 had every atomic sequentially consistent
          t.*member = memory_model::sc;
          return;
        }
        const std::string_view v = header(n.header);
        const auto m = parse_memory_model(v);
        if (!m) fail("unknown memory model " + quote(v) + " (expected sc or rc11)");
        t.*member = *m;
      } else if constexpr (std::is_same_v<T, bool>) {
        const auto v = number<std::uint32_t>(header(n.header), n.header);
        if (v > 1) fail(std::string(n.header) + " is " + std::to_string(v) + ": expected 0 or 1");
        t.*member = v != 0;
      } else {
        if (version_ < 2 && std::string_view(n.header) == "spurious-cas-failures") {
          t.*member = 0;
          return;
        }
        t.*member = number<T>(header(n.header), n.header);
        // The values lockstep check accepts (a trace says what a run used).
        const std::string_view h = n.header;
        const auto v = static_cast<std::uint64_t>(t.*member);
        const auto range = [&](std::uint64_t lo, std::uint64_t hi) {
          if (v < lo || v > hi)
            fail(std::string(h) + " is " + std::to_string(v) + ": expected " + std::to_string(lo) + " to " +
                 std::to_string(hi));
        };
        if (h == "max-steps") range(1, kMaxStepsBound);
        if (h == "spurious-wakeups" || h == "spurious-cas-failures") range(0, 1000);
        if (h == "livelock-window") range(2, UINT64_MAX);
        if (h == "busy-wait-bound") range(1, 100000000);
        if (h == "bypass-bound") range(0, 100000000);
      }
    });
    if (version_ >= 4) {
      t.stack_size = number<std::size_t>(header("stack-size"), "stack-size");
      if (t.stack_size < kMinStackSize)
        fail("stack-size is " + std::to_string(t.stack_size) + ": expected at least " + std::to_string(kMinStackSize));
      t.step_timeout_ms = signed_number(header("step-timeout"), "step-timeout");
    }
    t.schedule = string_value(header("schedule"), "schedule");
    t.kind = verdict(header("verdict"));
    t.bug_step = number<std::uint64_t>(header("bug-step"), "bug-step");
    t.bug_thread = number<std::uint32_t>(header("bug-thread"), "bug-thread");
    t.message = string_value(header("message"), "message");
    const auto count = number<std::uint64_t>(header("events"), "event count");
    read_events(t.events, count);
    read_end(count);
    // The failing thread is one of the execution's: thread 0, or one spawned
    // (a bug at a thread's very start, the step bound say, comes before its
    // first event).
    if (t.kind.has_value() && t.bug_thread != 0 &&
        std::none_of(t.events.begin(), t.events.end(), [&](const trace_event& e) {
          return e.thread == t.bug_thread || (e.o == op::spawn && e.value == t.bug_thread);
        }))
      fail("bug-thread " + std::to_string(t.bug_thread) + " is not a thread of the trace");
    return t;
  }

 private:
  [[noreturn]] void fail(std::size_t line, const std::string& what) const { fail_at(name_, line, what); }
  [[noreturn]] void fail(const std::string& what) const { fail(line_, what); }

  // The writer writes UTF-8 text with no control characters but tabs and
  // newlines; anything else is not a trace (a CR is tolerated: CRLF files).
  void check_text() const {
    std::size_t line = 1;
    for (std::size_t i = 0; i < text_.size();) {
      const auto c = static_cast<unsigned char>(text_[i]);
      if (c == '\n') ++line;
      const bool ok_control = c == '\n' || c == '\t' || c == '\r';
      const std::size_t n = is_control(c) && !ok_control ? 0 : utf8_length(text_, i);
      if (n == 0) fail(line, "binary data (byte 0x" + hex_byte(c) + ")");
      i += n;
    }
  }

  // The next line without its newline (and a CR before it), or nullopt at
  // the end of the text. line_ is then its number.
  std::optional<std::string_view> next_line() {
    if (pos_ >= text_.size()) return std::nullopt;
    const std::size_t nl = text_.find('\n', pos_);
    const std::size_t end = nl == std::string_view::npos ? text_.size() : nl;
    std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = nl == std::string_view::npos ? text_.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_;
    return line;
  }

  void read_version() {
    const std::string_view line = *next_line();  // the text is not empty
    const std::string expected = "(expected \"" + std::string(kMagic) + " " +
                                 std::to_string(trace::format_version) + "\")";
    if (line.substr(0, kMagic.size() + 1) != std::string(kMagic) + " ")
      fail("not a lockstep trace " + expected);
    const std::string_view v = line.substr(kMagic.size() + 1);
    const bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string_view::npos;
    const auto version = parse_unsigned<std::uint64_t>(v);
    if (digits && (!version || *version > trace::format_version)) {
      std::string shown = quote(v);
      fail("trace format version " + shown.substr(1, shown.size() - 2) +
           " is newer than this lockstep reads (" + std::to_string(trace::format_version) + ")");
    }
    if (!version || *version == 0)
      fail("bad trace format version " + quote(v) + " " + expected);
    version_ = static_cast<int>(*version);
  }

  // The value of the next line, which must be `key` or `key value`.
  std::string_view header(std::string_view key) {
    const auto line = next_line();
    if (!line) fail(line_ + 1, "truncated: the file ends before the \"" + std::string(key) + "\" line");
    if (*line == key) return {};
    if (line->size() > key.size() && line->substr(0, key.size()) == key && (*line)[key.size()] == ' ')
      return line->substr(key.size() + 1);
    fail("expected \"" + std::string(key) + " ...\", found " + quote(*line));
  }

  std::string string_value(std::string_view s, std::string_view what) const {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (is_control(static_cast<unsigned char>(c)))
        fail("unescaped control character (byte 0x" + hex_byte(static_cast<unsigned char>(c)) + ") in the " +
             std::string(what));
      if (c != '\\') {
        out += c;
        continue;
      }
      out += unescape(s, i, what);
    }
    return out;
  }

  // The escape starting at s[i] (a backslash); leaves i on its last byte.
  char unescape(std::string_view s, std::size_t& i, std::string_view what) const {
    const std::string bad = "bad escape in the " + std::string(what) + ": ";
    if (i + 1 >= s.size()) fail(bad + "a lone \\ at the end of " + quote(s));
    const char e = s[++i];
    switch (e) {
      case '\\': return '\\';
      case 't': return '\t';
      case 'n': return '\n';
      case 'r': return '\r';
      case '-': return '-';
      case 'x': {
        const int hi = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
        const int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) fail(bad + "\\x needs two hex digits in " + quote(s));
        i += 2;
        return static_cast<char>(hi * 16 + lo);
      }
      default: fail(bad + quote(s.substr(i - 1, 2)) + " (expected \\\\, \\t, \\n, \\r, \\-, \\xHH)");
    }
  }

  template <class T>
  T number(std::string_view s, std::string_view what) const {
    const auto v = parse_unsigned<T>(s);
    if (!v)
      fail("bad " + std::string(what) + " " + quote(s) + ": expected a whole number from 0 to " +
           std::to_string(static_cast<T>(-1)));
    return *v;
  }

  // A millisecond count as options::step_timeout takes it: an optional
  // minus sign, then decimal digits, within mc::max_duration either way.
  std::int64_t signed_number(std::string_view s, std::string_view what) const {
    const bool negative = !s.empty() && s.front() == '-';
    const auto v = parse_number(negative ? s.substr(1) : s, nullptr, static_cast<std::uint64_t>(max_duration.count()));
    if (!v)
      fail("bad " + std::string(what) + " " + quote(s) + ": expected a whole number of milliseconds from -" +
           std::to_string(max_duration.count()) + " to " + std::to_string(max_duration.count()));
    return negative ? -static_cast<std::int64_t>(*v) : static_cast<std::int64_t>(*v);
  }

  std::optional<bug_kind> verdict(std::string_view s) const {
    if (s == "pass") return std::nullopt;
    if (auto k = parse_bug_kind(s)) return k;
    fail("unknown verdict " + quote(s) + " (expected pass or a bug kind such as deadlock)");
  }

  void read_events(std::vector<trace_event>& events, std::uint64_t count) {
    // The count comes from the file: reserve no more than its lines can hold.
    events.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(count, (text_.size() - pos_) / 16)));
    for (std::uint64_t i = 0; i < count; ++i) {
      const auto line = next_line();
      if (!line)
        fail(line_ + 1, "truncated: the header says " + std::to_string(count) + " events, the file ends after " +
                            std::to_string(i));
      if (*line == "end")
        fail("too few events: the header says " + std::to_string(count) + ", \"end\" comes after " +
             std::to_string(i));
      events.push_back(event(*line, i + 1));
    }
  }

  trace_event event(std::string_view line, std::uint64_t step) const {
    const std::size_t fields = version_ < 2 ? 7 : 8;  // version 2 added what a load read
    std::string_view f[8];
    std::size_t n = 0;
    for (std::size_t start = 0;; ++n) {
      const std::size_t tab = line.find('\t', start);
      if (n < 8) f[n] = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (++n != fields)
      fail("expected an event (" + std::to_string(fields) + " tab-separated fields), found " + std::to_string(n) +
           " fields");
    trace_event e;
    const auto s = parse_unsigned<std::uint64_t>(f[0]);
    if (!s || *s != step) fail("bad step " + quote(f[0]) + ": expected " + std::to_string(step));
    e.step = step;
    e.thread = number<std::uint32_t>(f[1], "thread");
    const auto o = parse_op(f[2]);
    if (!o) fail("unknown operation " + quote(f[2]));
    e.o = *o;
    e.object = f[3] == "-" ? 0 : number<std::uint32_t>(f[3], "object id");
    e.value = event_value(f[4], e.o);
    e.object_name = f[5] == "-" ? std::string() : string_value(f[5], "object name");
    location(f[6], e);
    if (fields == 8 && f[7] != "-") {
      e.rf = number<std::uint64_t>(f[7], "step read from");
      if (e.rf == 0 || e.rf >= step) fail("bad step read from " + quote(f[7]) + ": expected an earlier step or -");
    }
    return e;
  }

  std::uint64_t event_value(std::string_view s, op o) const {
    if (s != "-") return number<std::uint64_t>(s, "value");
    if (!valueless(o)) fail(std::string("a \"") + op_name(o) + "\" event has a value, found \"-\"");
    return 0;
  }

  void location(std::string_view s, trace_event& e) const {
    if (s == "-") return;
    const std::size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) fail("bad location " + quote(s) + ": expected FILE:LINE or -");
    e.file = string_value(s.substr(0, colon), "file name");
    e.line = number<std::uint32_t>(s.substr(colon + 1), "line number");
  }

  void read_end(std::uint64_t count) {
    const std::string after = "after the " + std::to_string(count) + " events";
    const auto line = next_line();
    if (!line) fail(line_ + 1, "truncated: no \"end\" line " + after);
    if (*line != "end") fail("expected \"end\" " + after + ", found " + quote(*line));
    if (pos_ < text_.size()) fail(line_ + 1, "trailing data after \"end\"");
  }

  std::string_view text_;
  std::string_view name_;
  std::size_t pos_ = 0;   // start of the next line
  std::size_t line_ = 0;  // number of the line last read
  int version_ = trace::format_version;
};

// ---------------------------------------------------------------- files

std::string read_file(const std::string& path) {
  rt::text_file f = rt::read_text_file(path, std::string(kMagic) + " ", kMaxFileBytes);
  if (!f.error.empty()) fail_at(path, 0, f.error);
  if (f.too_large) fail_at(path, 0, "larger than 1 GiB: not a lockstep trace");
  return std::move(f.text);
}

}  // namespace

std::string format_trace(const trace& t) {
  std::string out = std::string(kMagic) + " " + std::to_string(trace::format_version) + "\n";
  put_header(out, "model", escape_field(t.model));
  put_header(out, "test", escape_field(t.test));
  put_header(out, "lockstep", escape_field(t.lockstep_version));
  put_header(out, "strategy", escape_field(t.strategy));
  put_header(out, "seed", std::to_string(t.seed));
  detail::for_each_shaping_option([&](const detail::shaping_option_names& n, auto, auto member) {
    put_header(out, n.header, detail::option_text(t.*member));
  });
  put_header(out, "stack-size", std::to_string(t.stack_size));
  put_header(out, "step-timeout", std::to_string(t.step_timeout_ms));
  put_header(out, "schedule", escape_field(t.schedule));
  put_header(out, "verdict", t.kind ? bug_kind_name(*t.kind) : "pass");
  put_header(out, "bug-step", std::to_string(t.bug_step));
  put_header(out, "bug-thread", std::to_string(t.bug_thread));
  put_header(out, "message", escape_field(t.message));
  put_header(out, "events", std::to_string(t.events.size()));
  for (const trace_event& e : t.events) put_event(out, e);
  out += "end\n";
  return out;
}

trace parse_trace(std::string_view text, std::string_view name) { return reader(text, name).parse(); }

trace read_trace_file(const std::string& path) { return parse_trace(read_file(path), path); }

void write_trace_file(const trace& t, const std::string& path) {
  try {
    rt::replace_file(path, format_trace(t));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("cannot write trace " + path + ": " + e.what());
  }
}

void check_trace_path(const std::string& path) {
  try {
    rt::check_replaceable(path);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("cannot write trace " + path + ": " + e.what());
  }
}

}  // namespace lockstep::mc
