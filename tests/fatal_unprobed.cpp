// Compiled without -fstack-clash-protection (tests/meson.build): the frame
// of test_fatal.cpp's big_frame as code built without the lockstep
// dependency's flags has it. A file of its own because a function attribute
// for this exists in GCC only.
int big_frame_unprobed(int seed);

// 300 KiB on a 256 KiB stack, written at offsets 10-50 KiB (see big_frame).
[[gnu::noinline]] int big_frame_unprobed(int seed) {
  volatile char block[300 * 1024];
  for (int i = 10 * 1024; i < 50 * 1024; i += 64) block[i] = static_cast<char>(seed + i);
  return block[10 * 1024];
}
