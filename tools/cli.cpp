#include "cli.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "src/input/files.hpp"

namespace lockstep::cli {

std::string errno_text(int err) { return std::generic_category().message(err); }

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string q(std::string_view s) { return "\"" + json_escape(s) + "\""; }

void write_file(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw usage_error{"cannot write " + path + ": " + errno_text(errno)};
  if (const int err = mc::rt::write_all(fd, text); err != 0) {
    ::close(fd);
    throw usage_error{"cannot write " + path + ": " + errno_text(err)};
  }
  if (::close(fd) != 0) throw usage_error{"cannot write " + path + ": " + errno_text(errno)};
}

}  // namespace lockstep::cli
