#!/usr/bin/env python3
"""Median table with lockstep / std ratios from Google Benchmark JSON output.

usage: ratios.py RESULT.json [RESULT.json ...]

Reads files written with --benchmark_out=FILE (--benchmark_out_format=json,
the default) by a run with --benchmark_repetitions=N (N >= 2, so there are
"median" aggregates). Benchmark names follow bench_primitives' convention,
"<case>:<impl><suffix>" (suffix: "/real_time", "/threads:2", "/cap:1", ...);
rows with the same case and suffix form a group, and each row's ratio is its
median time over the median time of the group's "std" row (time per
operation: a ratio below 1 means lockstep is faster). Names without ':' (e.g.
bench_mutex's BM_uncontended<std::mutex>) are printed without a ratio, but
bench_mutex's template names are mapped onto the same convention
(BM_x<std::mutex> -> mutex/x:std, <lockstep::mutex> -> :lockstep,
<plain_futex_mutex> -> :plain_futex, <nospin_futex_mutex> -> :nospin_futex).

Prints a Markdown table in registration order (random interleaving shuffles
the JSON): benchmark, median time, its coefficient of variation over the
repetitions (how noisy the row is), median items/s (when reported), ratio to
std, and, when the group has a "plain_futex" row (bench_mutex), the ratio of
lockstep to it (the cost of the seam).
"""
import json
import re
import sys

NAME = re.compile(r"^(?P<case>[^:/][^:]*):(?P<impl>[^/]+)(?P<suffix>.*)$")
MUTEX = re.compile(r"^BM_(?P<case>\w+)<(?P<type>[^>]+)>(?P<suffix>.*)$")
MUTEX_IMPL = {
    "std::mutex": "std",
    "lockstep::mutex": "lockstep",
    "plain_futex_mutex": "plain_futex",
    "nospin_futex_mutex": "nospin_futex",
}


def canonical(name):
    m = MUTEX.match(name)
    if m and m["type"] in MUTEX_IMPL:
        return f"mutex/{m['case']}:{MUTEX_IMPL[m['type']]}{m['suffix']}"
    return name


def fmt_time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.2f} ns"


def fmt_rate(r):
    if r is None:
        return ""
    if r >= 1e6:
        return f"{r / 1e6:.2f} M/s"
    return f"{r / 1e3:.1f} k/s"


def to_ns(b, key):
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b[key] * scale


def main(paths):
    rows = []  # (order, name, ns, items/s)
    cv = {}
    for file_no, path in enumerate(paths):
        with open(path) as f:
            data = json.load(f)
        for b in data["benchmarks"]:
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "cv":
                cv[canonical(b["run_name"])] = b["real_time"]
            if b.get("run_type") != "aggregate" or b.get("aggregate_name") != "median":
                continue
            if b.get("error_occurred"):
                continue
            order = (file_no, b.get("family_index", 0), b.get("per_family_instance_index", 0))
            rows.append((order, canonical(b["run_name"]), to_ns(b, "real_time"),
                         b.get("items_per_second")))
    rows.sort()
    by_impl = {}
    for _, name, ns, _ in rows:
        m = NAME.match(name)
        if m:
            by_impl[(m["case"], m["suffix"], m["impl"])] = ns
    seam = any(k[2] == "plain_futex" for k in by_impl)
    head = "| benchmark | median time/op | cv | median items/s | / std |"
    print(head + (" lockstep / plain_futex |" if seam else ""))
    print("|---|---|---|---|---|" + ("---|" if seam else ""))
    for _, name, ns, rate in rows:
        m = NAME.match(name)
        ratio = plain = ""
        if m and m["impl"] != "std" and (m["case"], m["suffix"], "std") in by_impl:
            ratio = f"{ns / by_impl[(m['case'], m['suffix'], 'std')]:.2f}x"
        if m and m["impl"] == "lockstep" and (m["case"], m["suffix"], "plain_futex") in by_impl:
            plain = f"{ns / by_impl[(m['case'], m['suffix'], 'plain_futex')]:.2f}x"
        noise = f"{cv[name] * 100:.0f}%" if name in cv else ""
        line = f"| `{name}` | {fmt_time(ns)} | {noise} | {fmt_rate(rate)} | {ratio} |"
        print(line + (f" {plain} |" if seam else ""))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
