#include "detectors/wait_for.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>

#include <algorithm>

namespace lockstep::mc::rt {

namespace {

using graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using vertex = boost::graph_traits<graph>::vertex_descriptor;
using edge = boost::graph_traits<graph>::edge_descriptor;

struct cycle_found {
  std::vector<std::size_t> cycle;
};

// DFS visitor: remembers tree parents; the first back edge closes a cycle.
class cycle_visitor : public boost::default_dfs_visitor {
 public:
  explicit cycle_visitor(std::vector<vertex>& parent) : parent_(&parent) {}
  void tree_edge(edge e, const graph& g) const { (*parent_)[boost::target(e, g)] = boost::source(e, g); }
  void back_edge(edge e, const graph& g) const {
    const vertex from = boost::source(e, g);
    const vertex to = boost::target(e, g);
    cycle_found c;
    for (vertex v = from; v != to; v = (*parent_)[v]) c.cycle.push_back(v);
    c.cycle.push_back(to);
    std::reverse(c.cycle.begin(), c.cycle.end());
    throw c;
  }

 private:
  std::vector<vertex>* parent_;
};

}  // namespace

std::vector<std::size_t> wait_for::cycle_in(std::size_t vertices,
                                            const std::vector<std::pair<std::size_t, std::size_t>>& edges,
                                            std::uint32_t from) {
  graph g(vertices);
  for (const auto& [a, b] : edges) boost::add_edge(a, b, g);
  std::vector<vertex> parent(boost::num_vertices(g));
  std::vector<boost::default_color_type> color(boost::num_vertices(g), boost::white_color);
  auto cmap = boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, g));
  cycle_visitor vis(parent);
  try {
    if (from != kNoThread) {
      boost::depth_first_visit(g, from, vis, cmap);
    } else {
      boost::depth_first_search(g, boost::visitor(vis).color_map(cmap));
    }
  } catch (cycle_found& c) {
    return std::move(c.cycle);
  }
  return {};
}

}  // namespace lockstep::mc::rt
