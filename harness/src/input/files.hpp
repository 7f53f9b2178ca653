// Internal: the files lockstep writes whole (traces, checkpoints) and reads
// back as hostile input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lockstep::mc::rt {

// Writes all of `text` to `fd` (again after a signal or a short write).
// Returns 0, or the errno of the failure (EIO for a write that wrote
// nothing); `fd` stays open either way.
int write_all(int fd, std::string_view text) noexcept;

// Replaces `path` with a file holding `text`, or leaves it as it was: the
// text goes to a new temporary file next to it (created exclusively, never
// through a symbolic link), is flushed to the disk and renamed over `path`.
// Something at `path` that is not a regular file (a device, FIFO, symbolic
// link or directory) is refused, not replaced. Throws std::runtime_error
// with one line saying which step failed and why ("cannot create
// F.tmp-x1y2z3: No such file or directory").
void replace_file(const std::string& path, std::string_view text);

// Throws as replace_file would if it could not replace `path`, so that a bad
// output path is found before a long search rather than after it. Creates
// and removes a temporary file next to `path`.
void check_replaceable(const std::string& path);

// Reads a text file for a parser that treats it as hostile. Reading stops
// as soon as what was read cannot be a file that starts with `magic` (it
// starts otherwise, or holds a control byte other than tab, CR and LF), so
// /dev/zero or a wrong file costs one buffer, not memory: the parser then
// names what is wrong in the text read so far. Reading also stops past
// `limit` bytes.
struct text_file {
  std::string text;
  std::string error;       // "" or "cannot open: ..." or "cannot read: ..." (errno's text)
  bool too_large = false;  // longer than `limit`
};
text_file read_text_file(const std::string& path, std::string_view magic, std::size_t limit);

}  // namespace lockstep::mc::rt
