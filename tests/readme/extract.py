#!/usr/bin/env python3
"""Writes the K-th ```cpp block of README.md (1-based) to OUT, with a #line
directive so that a compiler names README.md's own lines. Fails when the
README does not have exactly COUNT such blocks: tests/meson.build names
every block, and a block added to the README must be added there too.

usage: extract.py README K COUNT OUT
"""
import sys


def blocks(path):
    found, block, start = [], None, 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if block is None:
                if line.strip() == "```cpp":
                    block, start = [], n + 1
            elif line.strip() == "```":
                found.append((start, "".join(block)))
                block = None
            else:
                block.append(line)
    if block is not None:
        sys.exit(f"{path}:{start - 1}: a ```cpp block is never closed")
    return found


def main():
    readme, k, count, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    found = blocks(readme)
    if len(found) != count:
        sys.exit(f"{readme} has {len(found)} ```cpp blocks; tests/meson.build compiles {count}: "
                 "make them agree (readme_blocks)")
    start, text = found[k - 1]
    with open(out, "w", encoding="utf-8") as f:
        f.write(f'#line {start} "README.md"\n{text}')


if __name__ == "__main__":
    main()
