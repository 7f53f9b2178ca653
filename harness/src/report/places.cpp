// The user's line of an operation made inside a header (places.hpp).
//
// libbacktrace (GCC's, the one Boost.Stacktrace's backtrace backend wraps)
// is called directly: it reports every inlined frame of an address, and the
// user's line of `std::unique_lock l(m);` is an inlined frame in any
// optimised build (unique_lock.h and lockstep/mutex.hpp inlined into the
// user's function). Boost.Stacktrace 1.74 keeps one file:line per frame,
// the outermost of the inlined ones, looked up at the return address: for a
// lock taken on line 21 it names line 22 or the enclosing template's line.
// Its addr2line backend runs a process per frame and needs binutils at run
// time.
#include "report/places.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#if LOCKSTEP_HAVE_BACKTRACE
#include <backtrace.h>
#endif

namespace lockstep::mc::rt {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// `part` in `f` at the start or right after a '/'.
bool has_dir(std::string_view f, std::string_view part) {
  for (std::size_t at = f.find(part); at != std::string_view::npos; at = f.find(part, at + 1))
    if (at == 0 || f[at - 1] == '/') return true;
  return false;
}

}  // namespace

bool foreign_file(std::string_view f) noexcept {
  if (f.empty()) return false;
  // System headers: libstdc++, libc++, Boost, the C library.
  if (starts_with(f, "/usr/include/") || starts_with(f, "/usr/lib/") || f.find("/include/c++/") != f.npos ||
      f.find("/c++/v1/") != f.npos || f.find("/include/boost/") != f.npos)
    return true;
  // lockstep's own sources, and its headers: <lockstep/X.hpp>, <lockstep/mc/X.hpp>,
  // <lockstep/lin/X.hpp>, <lockstep/detail/X.hpp>, in the tree or installed.
  if (has_dir(f, "harness/src/") || has_dir(f, "primitives/src/")) return true;
  const std::size_t slash = f.rfind('/');
  if (slash == f.npos) return false;
  std::string_view dir = f.substr(0, slash);
  for (std::string_view sub : {"/mc", "/lin", "/detail"})
    if (dir.size() >= sub.size() && dir.substr(dir.size() - sub.size()) == sub) {
      dir.remove_suffix(sub.size());
      break;
    }
  return dir == "lockstep" || (dir.size() > 9 && dir.substr(dir.size() - 9) == "/lockstep");
}

#if LOCKSTEP_HAVE_BACKTRACE

namespace {

// What std::source_location points to: the record __builtin_source_location()
// fills, whose members GCC and Clang require by name and order; libstdc++'s
// and libc++'s std::source_location hold one pointer to it.
struct location_record {
  const char* file;
  const char* function;
  unsigned line;
  unsigned column;
};

bool layout_matches() noexcept {
  if constexpr (sizeof(std::source_location) != sizeof(const location_record*)) {
    return false;
  } else {
    const std::source_location here = std::source_location::current();
    const auto* r = std::bit_cast<const location_record*>(here);
    return r != nullptr && r->file == here.file_name() && r->function == here.function_name() &&
           r->line == here.line() && r->column == here.column();
  }
}

struct frame_entry {
  const char* file;
  int line;
  const char* function;
};

// The frames of one address, innermost (inlined) first.
int collect(void* data, std::uintptr_t, const char* file, int line, const char* function) {
  static_cast<std::vector<frame_entry>*>(data)->push_back({file, line, function});
  return 0;
}

void ignore_error(void*, const char*, int) {}

void symbol_name(void* data, std::uintptr_t, const char* name, std::uintptr_t, std::uintptr_t) {
  *static_cast<const char**>(data) = name;
}

// A function of lockstep, the standard library or Boost, by its mangled name
// (frames without debug info: lockstep's own library in a release build).
bool foreign_symbol(const char* name) {
  if (name == nullptr) return false;
  const std::string_view s = name;
  for (std::string_view p : {"_ZN8lockstep", "_ZNK8lockstep", "_ZZN8lockstep", "_ZZNK8lockstep", "_ZNSt", "_ZNKSt",
                             "_ZSt", "_ZZNSt", "_ZZNKSt", "_ZN9__gnu_cxx", "_ZN5boost", "_ZNK5boost", "_ZZN5boost"})
    if (starts_with(s, p)) return true;
  return false;
}

class places {
 public:
  static places& get() {
    static places* p = new places;  // lives as long as the locations it hands out
    return *p;
  }

  bool ok() const noexcept { return state_ != nullptr; }

  std::source_location find(const std::source_location& loc) {
    std::lock_guard g(m_);
    walk w{this, nullptr, 0};
    ::backtrace_simple(
        state_, 0,
        [](void* data, std::uintptr_t pc) -> int {
          walk& w = *static_cast<walk*>(data);
          if (++w.depth > 128) return 1;
          const frame& f = w.self->classify(pc);
          if (f.kind == frame::foreign) return 0;
          w.found = f.kind == frame::user ? f.place : nullptr;
          return 1;
        },
        ignore_error, &w);
    if (w.found == nullptr) return loc;
    return std::bit_cast<std::source_location>(w.found);
  }

 private:
  struct frame {
    enum kind_t { foreign, user, opaque } kind;
    const location_record* place;
  };
  struct walk {
    places* self;
    const location_record* found;
    int depth;
  };

  places() {
    if (layout_matches()) state_ = ::backtrace_create_state(nullptr, 1, ignore_error, nullptr);
  }

  const frame& classify(std::uintptr_t pc) {
    if (auto it = frames_.find(pc); it != frames_.end()) return it->second;
    std::vector<frame_entry> chain;
    ::backtrace_pcinfo(state_, pc, collect, ignore_error, &chain);
    frame f{frame::foreign, nullptr};
    bool known = false;
    for (const frame_entry& e : chain) {
      if (e.file == nullptr || e.line <= 0) continue;
      known = true;
      if (foreign_file(e.file)) continue;
      f = frame{frame::user, intern(e.file, static_cast<unsigned>(e.line), e.function)};
      break;
    }
    if (!known) {
      const char* name = nullptr;
      ::backtrace_syminfo(state_, pc, symbol_name, ignore_error, &name);
      if (!foreign_symbol(name)) f.kind = frame::opaque;  // no debug info where the user's line would be
    }
    return frames_.emplace(pc, f).first->second;
  }

  // The path as reports show it: as compiled when it is relative (to the
  // build directory, like a std::source_location's); an absolute one
  // relative to the working directory when it is under it or beside it (a
  // build directory's "../src/x.cpp").
  static std::string shown(const char* file) {
    namespace fs = std::filesystem;
    if (file[0] != '/') return file;
    const fs::path p = fs::path(file).lexically_normal();
    std::error_code ec;
    const fs::path cwd = fs::current_path(ec);
    if (ec) return p.string();
    const fs::path rel = p.lexically_relative(cwd);
    if (rel.empty()) return p.string();
    int ups = 0;
    for (const fs::path& part : rel) ups += part == ".." ? 1 : 0;
    return ups <= 1 ? rel.string() : p.string();
  }

  const location_record* intern(const char* file, unsigned line, const char* function) {
    const std::string path = shown(file);
    const std::string& fn = *functions_.insert(function != nullptr ? function : "").first;
    auto [it, fresh] = records_.try_emplace({path, line}, location_record{});
    if (fresh) it->second = location_record{it->first.first.c_str(), fn.c_str(), line, 0};
    return &it->second;
  }

  std::mutex m_;
  ::backtrace_state* state_ = nullptr;
  std::unordered_map<std::uintptr_t, frame> frames_;
  std::map<std::pair<std::string, unsigned>, location_record> records_;  // nodes stay put
  std::set<std::string> functions_;
};

}  // namespace

bool user_places_supported() noexcept { return places::get().ok(); }

std::source_location user_place(const std::source_location& loc) noexcept {
  try {
    if (!foreign_file(loc.file_name())) return loc;
    places& p = places::get();
    return p.ok() ? p.find(loc) : loc;
  } catch (...) {  // out of memory: the header's place
    return loc;
  }
}

#else

bool user_places_supported() noexcept { return false; }
std::source_location user_place(const std::source_location& loc) noexcept { return loc; }

#endif

}  // namespace lockstep::mc::rt
