// Failure pictures: the wait-for graph as DOT, per-thread timelines as text
// and as a DOT table.
#include "lockstep/mc/graph.hpp"

#include <algorithm>
#include <string>

namespace lockstep::mc {

namespace {

// A DOT double-quoted string: quotes and backslashes escaped, newlines as \n.
std::string dq(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string thread_name(std::uint32_t t) { return t == 0 ? "thread 0 (main)" : "thread " + std::to_string(t); }

std::string basename_line(const trace_event& e) {
  if (e.line == 0) return {};
  std::string_view f = e.file;
  if (auto slash = f.rfind('/'); slash != std::string_view::npos) f.remove_prefix(slash + 1);
  return std::string(f) + ":" + std::to_string(e.line);
}

}  // namespace

std::string to_dot(const wait_graph& g, std::string_view title) {
  std::string out = "digraph wait_for {\n";
  out += "  label=" + dq(title) + ";\n  labelloc=t;\n  fontname=\"Helvetica\";\n  rankdir=LR;\n";
  out += "  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n";
  for (const wait_graph::node& n : g.nodes) {
    std::string label = n.label;
    if (!n.detail.empty()) label += "\n" + n.detail;
    out += "  " + n.id + " [label=" + dq(label) +
           (n.thread ? ", shape=ellipse" : ", shape=box, style=\"rounded,filled\", fillcolor=\"#eeeeee\"") + "];\n";
  }
  for (const wait_graph::edge& e : g.edges) {
    if (e.from >= g.nodes.size() || e.to >= g.nodes.size()) continue;
    std::string label = e.waits ? "waits for" : "held by";
    if (!e.label.empty()) label += "\n" + e.label;
    out += "  " + g.nodes[e.from].id + " -> " + g.nodes[e.to].id + " [label=" + dq(label);
    if (e.waits) out += ", style=dashed";
    if (e.in_cycle) out += ", color=red, fontcolor=red, penwidth=2";
    out += "];\n";
  }
  if (g.nodes.empty()) out += "  empty [shape=plaintext, label=\"(no thread holds or waits for anything)\"];\n";
  out += "}\n";
  return out;
}

std::string to_dot(const bug& b, std::string_view model_name) {
  std::string title = model_name.empty() ? std::string() : std::string(model_name) + ": ";
  title += std::string(bug_kind_name(b.kind)) + ": " + b.message;
  return to_dot(b.graph, title);
}

std::string event_text(const trace_event& e) {
  std::string s = op_name(e.o);
  switch (e.o) {
    case op::spawn: return s + " " + thread_name(static_cast<std::uint32_t>(e.value));
    case op::join: return s + " " + thread_name(e.object);
    case op::start:
    case op::exit:
    case op::yield: return s;
    case op::choose:
      return s + (e.object_name.empty() ? " " : " spurious wake-up of " + e.object_name + ": ") +
             std::to_string(e.value);
    case op::wait:
    case op::wake_return:
    case op::timeout: return s + (e.object_name.empty() ? "" : " " + e.object_name);
    case op::wake:
      return s + (e.object_name.empty() ? "" : " " + e.object_name) + " (" + std::to_string(e.value) + " woken)";
    case op::fence: {
      static constexpr const char* kOrders[] = {"relaxed", "consume", "acquire", "release", "acq_rel", "seq_cst"};
      return s + " " + (e.value < 6 ? kOrders[e.value] : "?");
    }
    default:
      // Under the memory model a load says which store it read.
      return s + " " + (e.object_name.empty() ? "object #" + std::to_string(e.object) : e.object_name) + " = " +
             std::to_string(static_cast<std::int64_t>(e.value)) +
             (e.rf != 0 ? " (stored at step " + std::to_string(e.rf) + ")" : "");
  }
}

std::string timeline_text(const std::vector<trace_event>& events, std::size_t nthreads, std::string_view heading,
                          std::size_t per_thread) {
  for (const trace_event& e : events) nthreads = std::max<std::size_t>(nthreads, e.thread + 1);
  // Which events: the last `per_thread` of each thread.
  std::vector<std::size_t> count(nthreads, 0);
  std::vector<std::size_t> picked;
  for (std::size_t i = events.size(); i-- > 0;) {
    const trace_event& e = events[i];
    if (per_thread == 0 || count[e.thread] < per_thread) {
      ++count[e.thread];
      picked.push_back(i);
    }
  }
  std::reverse(picked.begin(), picked.end());
  std::vector<bool> shown(nthreads, false);
  for (std::size_t i : picked) shown[events[i].thread] = true;
  std::vector<std::string> cells(picked.size());
  std::size_t width = 16;
  for (std::size_t k = 0; k < picked.size(); ++k) {
    const trace_event& e = events[picked[k]];
    cells[k] = event_text(e);
    const std::string at = basename_line(e);
    if (!at.empty()) cells[k] += "  " + at;
    width = std::max(width, cells[k].size());
  }
  width = std::min<std::size_t>(width, 48) + 2;
  auto pad = [&](std::string s) {
    if (s.size() > width - 2) s = s.substr(0, width - 5) + "...";
    s.resize(width, ' ');
    return s;
  };
  std::string out = "  " + std::string(heading) + ":\n";
  std::string head = "    step  ";
  for (std::size_t t = 0; t < nthreads; ++t)
    if (shown[t]) head += pad(thread_name(static_cast<std::uint32_t>(t)));
  while (!head.empty() && head.back() == ' ') head.pop_back();
  out += head + "\n";
  std::uint64_t prev = 0;
  for (std::size_t k = 0; k < picked.size(); ++k) {
    const trace_event& e = events[picked[k]];
    if (prev != 0 && e.step > prev + 1) out += "     ...\n";
    prev = e.step;
    std::string step = std::to_string(e.step);
    std::string row = "    " + std::string(step.size() < 4 ? 4 - step.size() : 0, ' ') + step + "  ";
    for (std::size_t t = 0; t < nthreads; ++t) {
      if (!shown[t]) continue;
      row += t == e.thread ? pad(cells[k]) : std::string(width, ' ');
      if (t == e.thread) break;
    }
    while (!row.empty() && row.back() == ' ') row.pop_back();
    out += row + "\n";
  }
  return out;
}

std::string timeline_dot(const std::vector<trace_event>& events, std::string_view title, std::size_t last) {
  std::size_t nthreads = 1;
  for (const trace_event& e : events) nthreads = std::max<std::size_t>(nthreads, e.thread + 1);
  const std::size_t from = events.size() > last ? events.size() - last : 0;
  std::string out = "digraph timeline {\n  label=" + dq(title) +
                    ";\n  labelloc=t;\n  fontname=\"Helvetica\";\n  node [shape=plaintext, fontname=\"Helvetica\"];\n";
  out += "  timeline [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"4\">\n";
  out += "    <tr><td><b>step</b></td>";
  for (std::size_t t = 0; t < nthreads; ++t)
    out += "<td><b>" + html(thread_name(static_cast<std::uint32_t>(t))) + "</b></td>";
  out += "</tr>\n";
  for (std::size_t i = from; i < events.size(); ++i) {
    const trace_event& e = events[i];
    out += "    <tr><td>" + std::to_string(e.step) + "</td>";
    for (std::size_t t = 0; t < nthreads; ++t) {
      if (t != e.thread) {
        out += "<td></td>";
        continue;
      }
      std::string cell = html(event_text(e));
      const std::string at = basename_line(e);
      if (!at.empty()) cell += "<br/><font point-size=\"9\">" + html(at) + "</font>";
      out += "<td align=\"left\">" + cell + "</td>";
    }
    out += "</tr>\n";
  }
  out += "  </table>>];\n}\n";
  return out;
}

}  // namespace lockstep::mc
