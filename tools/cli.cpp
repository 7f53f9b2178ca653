#include "cli.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <system_error>

#include "lockstep/mc/explore.hpp"
#include "src/input/files.hpp"

namespace lockstep::cli {

std::string errno_text(int err) { return std::generic_category().message(err); }

void print_error(std::string_view what) {
  std::fflush(stdout);  // what was printed before the error comes before it
  std::string line = what.rfind("lockstep: ", 0) == 0 ? "" : "lockstep: ";
  for (char ch : what) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') line += "\\n";
    else if (c == '\r') line += "\\r";
    else if (c == '\t') line += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      line += esc;
    } else line += ch;
  }
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

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

bool sampled_strategy(std::string_view name) {
  const auto k = mc::parse_strategy(name);
  return k && mc::is_sampling(*k);
}

std::string xml_clean(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += c < 0x20 && c != '\t' && c != '\n' && c != '\r' ? '?' : static_cast<char>(c);
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length, its continuation bytes, no overlong
    // form, no surrogate, nothing past U+10FFFF.
    const std::size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    bool ok = len != 0 && i + len <= s.size();
    std::uint32_t cp = len == 2 ? c & 0x1fu : len == 3 ? c & 0x0fu : c & 0x07u;
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xc0) == 0x80;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    if (ok) ok = !(len == 3 && cp < 0x800) && !(len == 4 && (cp < 0x10000 || cp > 0x10ffff)) &&
                 !(cp >= 0xd800 && cp <= 0xdfff) && cp != 0xfffe && cp != 0xffff;
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

std::string xml_attr(std::string_view s) {
  std::string out;
  for (char c : xml_clean(s)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      case '\t': out += "&#9;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string xml_cdata(std::string_view s) {
  std::string text = xml_clean(s);
  std::string out = "<![CDATA[";
  for (std::size_t at = 0;;) {
    const std::size_t end = text.find("]]>", at);
    if (end == std::string::npos) {
      out.append(text, at, std::string::npos);
      break;
    }
    out.append(text, at, end + 2 - at);  // "...]]" ends this section,
    out += "]]><![CDATA[";               // ">..." starts the next
    at = end + 2;
  }
  return out + "]]>";
}

std::string thousands(unsigned long long n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

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
