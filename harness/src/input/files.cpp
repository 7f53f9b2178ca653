// Whole-file writes through a temporary file, and bounded reads (files.hpp).
#include "input/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <system_error>

namespace lockstep::mc::rt {

namespace {

std::string errno_text(int err) { return std::generic_category().message(err); }

[[noreturn]] void fail(const std::string& what, int err) { throw std::runtime_error(what + ": " + errno_text(err)); }

const char* file_type(mode_t m) {
  if (S_ISLNK(m)) return "a symbolic link";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

// Nothing, or a regular file, at `path` (not followed if it is a link).
void check_target(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    fail("cannot look at " + path, errno);
  }
  if (!S_ISREG(st.st_mode))
    throw std::runtime_error(path + " is " + file_type(st.st_mode) + ", not a regular file: not replaced");
}

// A new file next to `path`, named path + ".tmp-" and six letters, created
// exclusively: an existing file or link of that name is never opened.
int create_temporary(const std::string& path, std::string& tmp) {
  static std::atomic<std::uint64_t> counter{0};
  constexpr char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uint64_t x = static_cast<std::uint64_t>(::getpid()) * 0x9e3779b97f4a7c15ull ^
                    static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  for (int attempt = 0; attempt < 100; ++attempt) {
    x ^= counter.fetch_add(1, std::memory_order_relaxed) + 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 31)) * 0x94d049bb133111ebull;
    std::string name = path + ".tmp-";
    std::uint64_t y = x;
    for (int i = 0; i < 6; ++i, y /= 36) name += letters[y % 36];
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
      tmp = std::move(name);
      return fd;
    }
    if (errno != EEXIST) fail("cannot create " + name, errno);
  }
  fail("cannot create a temporary file next to " + path, EEXIST);
}

}  // namespace

int write_all(int fd, std::string_view text) noexcept {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

void replace_file(const std::string& path, std::string_view text) {
  check_target(path);
  std::string tmp;
  const int fd = create_temporary(path, tmp);
  auto give_up = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    fail(what, err);
  };
  if (const int err = write_all(fd, text); err != 0) {
    ::close(fd);
    give_up("writing " + tmp, err);
  }
  // Flushed before the rename, so the rename publishes a whole file or none.
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    give_up("writing " + tmp, err);
  }
  if (::close(fd) != 0) give_up("writing " + tmp, errno);
  // Checked again: something may have appeared at `path` meanwhile.
  try {
    check_target(path);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) give_up("renaming " + tmp, errno);
}

void check_replaceable(const std::string& path) {
  check_target(path);
  std::string tmp;
  const int fd = create_temporary(path, tmp);
  ::close(fd);
  ::unlink(tmp.c_str());
}

text_file read_text_file(const std::string& path, std::string_view magic, std::size_t limit) {
  text_file out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out.error = "cannot open: " + errno_text(errno);
    return out;
  }
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.error = "cannot read: " + errno_text(errno);
      break;
    }
    if (n == 0) break;
    if (out.text.size() + static_cast<std::size_t>(n) > limit) {
      out.too_large = true;
      break;
    }
    const std::size_t before = out.text.size();
    out.text.append(buf, static_cast<std::size_t>(n));
    // Enough to tell: the text starts otherwise, or holds a byte no text
    // file of ours holds.
    const std::size_t head = std::min(out.text.size(), magic.size());
    if (out.text.compare(0, head, magic, 0, head) != 0) break;
    bool binary = false;
    for (std::size_t i = before; i < out.text.size() && !binary; ++i) {
      const auto c = static_cast<unsigned char>(out.text[i]);
      binary = (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
    }
    if (binary) break;
  }
  ::close(fd);
  return out;
}

}  // namespace lockstep::mc::rt
