// bench_sctbench — the exploration strategies on the SCTBench-style programs
// (tests/sctbench), with SCTBench's protocol (Thomson, Donaldson, Betts,
// PPoPP 2014): each strategy gets up to 10,000 executions per program, and
// what counts is whether it finds the bug and after how many executions
// (the failing execution's 1-based index). A sampling strategy runs once per
// seed (1..5 by default) and its cell says in how many runs it found the bug
// and the median index over those runs; an exhaustive one runs once.
//
// Prints a markdown table (rows: programs, columns: strategies) and, per
// cell, the seconds it took, on stderr as it goes. See tools/bench/README.md,
// "Strategies on SCTBench-style programs", for the numbers and the command.
//
//   bench_sctbench [--seeds N] [--max-executions N] [PROGRAM...]
//
// Not a Google Benchmark program: the measure is executions to a bug, not
// time, and one table is the output.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "lockstep/lockstep.hpp"
#include "sctbench/sctbench.hpp"

namespace {

namespace mc = lockstep::mc;
namespace sct = lockstep::sctbench;

// One column of the table. `sampled`: run once per seed; otherwise once.
struct strategy_column {
  const char* name;
  bool sampled;
  void (*configure)(mc::options& o, std::uint64_t seed);
};

// The strategies measured, in column order. A new strategy is one row here
// (a sampling one seeded by `seed`, an exhaustive one ignoring it).
const strategy_column kStrategies[] = {
    {"random", true, [](mc::options& o, std::uint64_t seed) { o.strategy = mc::random(seed); }},
    {"pct d=1", true, [](mc::options& o, std::uint64_t seed) { o.strategy = mc::pct(seed, 1); }},
    {"pct d=2", true, [](mc::options& o, std::uint64_t seed) { o.strategy = mc::pct(seed, 2); }},
    {"pct d=3", true, [](mc::options& o, std::uint64_t seed) { o.strategy = mc::pct(seed, 3); }},
    {"pos", true, [](mc::options& o, std::uint64_t seed) { o.strategy = mc::pos(seed); }},
    {"idb", false, [](mc::options& o, std::uint64_t) { o.strategy = mc::delay_bounding(); }},
    {"ipb", false,
     [](mc::options& o, std::uint64_t) {
       o.strategy = mc::dfs();
       o.iterative_bounding = true;
     }},
    {"dpor", false, [](mc::options& o, std::uint64_t) { o.strategy = mc::dpor(); }},
    {"dfs", false, [](mc::options& o, std::uint64_t) { o.strategy = mc::dfs(); }},
};

struct run_outcome {
  bool found = false;
  bool expected = false;  // the bug found is the program's assertion
  bool complete = false;
  std::uint64_t execution = 0;  // the failing execution's index
  int bound = -1;               // ipb, idb: the preemption or delay bound it was found at
};

run_outcome run(const sct::program& p, const strategy_column& s, std::uint64_t seed,
                std::uint64_t max_executions) {
  mc::options o;
  s.configure(o, seed);
  o.max_executions = max_executions;
  o.memory_model = mc::memory_model::sc;  // SCTBench assumes sequential consistency
  o.honour_env = false;
  o.shrink = false;  // the index of the failing execution is the measure
  o.trace_dir = "-";
  o.name = p.name;
  const mc::result r = mc::explore(o, p.body);
  run_outcome out;
  out.complete = r.complete;
  if (r.found) {
    out.found = true;
    out.execution = r.found->execution;
    out.bound = r.preemption_bound;
    out.expected = r.found->kind == mc::bug_kind::assertion &&
                   r.found->message.find(p.assertion) != std::string::npos;
    if (!out.expected)
      std::fprintf(stderr, "%s under %s: an unexpected bug:\n%s\n", p.name, s.name, r.report().c_str());
  }
  return out;
}

std::string cell(const sct::program& p, const strategy_column& s, int seeds,
                 std::uint64_t max_executions) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string text;
  if (s.sampled) {
    std::vector<std::uint64_t> found_at;
    for (int seed = 1; seed <= seeds; ++seed) {
      const auto r = run(p, s, static_cast<std::uint64_t>(seed), max_executions);
      if (r.found && r.expected) found_at.push_back(r.execution);
    }
    if (found_at.empty()) {
      text = "—";
    } else {
      std::sort(found_at.begin(), found_at.end());
      const std::size_t k = found_at.size();
      // The median over the runs that found it (the lower middle one for an
      // even count).
      text = std::to_string(k) + "/" + std::to_string(seeds) + ", median " +
             std::to_string(found_at[(k - 1) / 2]);
    }
  } else {
    const auto r = run(p, s, 1, max_executions);
    if (r.found && r.expected) {
      text = "found at " + std::to_string(r.execution);
      if (std::strcmp(s.name, "ipb") == 0 || std::strcmp(s.name, "idb") == 0)
        text += " (bound " + std::to_string(r.bound) + ")";
    } else if (r.found) {
      text = "other bug";
    } else if (r.complete) {
      text = "none (complete)";
    } else {
      text = "—";
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "%-22s %-8s %-28s %7.2f s\n", p.name, s.name, text.c_str(), secs);
  return text;
}

[[noreturn]] void usage(const char* what) {
  std::fprintf(stderr, "bench_sctbench: %s\nusage: bench_sctbench [--seeds N] [--max-executions N] [PROGRAM...]\n",
               what);
  std::exit(2);
}

std::uint64_t number(const char* s, const char* flag) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0' || v == 0) usage((std::string(flag) + " takes a positive number").c_str());
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int seeds = 5;
  std::uint64_t max_executions = 10000;
  std::vector<const sct::program*> selected;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
      seeds = static_cast<int>(number(argv[++i], "--seeds"));
    } else if (std::strcmp(argv[i], "--max-executions") == 0 && i + 1 < argc) {
      max_executions = number(argv[++i], "--max-executions");
    } else {
      const auto all = sct::programs();
      const auto it = std::find_if(all.begin(), all.end(),
                                   [&](const sct::program& p) { return std::strcmp(p.name, argv[i]) == 0; });
      if (it == all.end()) usage((std::string("unknown program or option: ") + argv[i]).c_str());
      selected.push_back(&*it);
    }
  }
  if (selected.empty())
    for (const auto& p : sct::programs()) selected.push_back(&p);

  std::vector<std::vector<std::string>> rows;
  for (const auto* p : selected) {
    std::vector<std::string> row;
    for (const auto& s : kStrategies) row.push_back(cell(*p, s, seeds, max_executions));
    rows.push_back(std::move(row));
  }

  std::printf("| program |");
  for (const auto& s : kStrategies) std::printf(" %s |", s.name);
  std::printf("\n|---|");
  for (std::size_t i = 0; i < std::size(kStrategies); ++i) std::printf("---|");
  std::printf("\n");
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::printf("| %s |", selected[r]->name);
    for (const auto& c : rows[r]) std::printf(" %s |", c.c_str());
    std::printf("\n");
  }
  return 0;
}
