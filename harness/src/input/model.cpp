// The model registry.
#include "lockstep/mc/model.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace lockstep::mc {

namespace {
std::vector<model>& registry() {
  static std::vector<model> r;
  return r;
}
bool& sorted() {
  static bool s = false;
  return s;
}
}  // namespace

model_registrar::model_registrar(const model& m) {
  for (const model& other : registry()) {
    if (std::strcmp(other.name, m.name) == 0) {
      std::fprintf(stderr, "lockstep: model '%s' is registered twice\n", m.name);
      std::abort();
    }
  }
  registry().push_back(m);
  sorted() = false;
}

std::span<const model> models() {
  if (!sorted()) {
    // Within a group, the order of registration: a group's models are
    // defined in one file, in the order their file gives them (each bug
    // before its fix), and static initialisation keeps that order.
    std::stable_sort(registry().begin(), registry().end(),
                     [](const model& a, const model& b) { return std::strcmp(a.group, b.group) < 0; });
    sorted() = true;
  }
  return registry();
}

const model* find_model(std::string_view name) {
  for (const model& m : models())
    if (name == m.name) return &m;
  return nullptr;
}

options default_options(const model& m) {
  options o;
  if (m.settings.exhaustive) {
    o.strategy = dpor();
  } else {
    o.strategy = random(1);
    o.max_executions = m.settings.executions;
  }
  if (m.settings.max_steps != 0) o.max_steps = m.settings.max_steps;
  o.step_timeout = m.settings.step_timeout;
  o.fair_scheduling = m.settings.fair_scheduling;
  o.name = m.name;
  return o;
}

std::string expectation_name(const expectation& e) {
  if (!e.bug) return "pass";
  return std::string("bug: ") + bug_kind_name(*e.bug);
}

}  // namespace lockstep::mc
