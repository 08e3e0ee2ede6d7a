//===- Schedule.cpp - Ops in an order where values precede their users ----===//
#include "passes/Passes.h"

#include "llvm/ADT/DenseMap.h"

#include <cassert>
#include <set>
#include <vector>

namespace nnc {

/// Reorders ops so that every value is defined before its users, keeping
/// the original order wherever it is already valid; a variable's other
/// readers go before the op computing its assigned value when they can, so
/// that the update can be done in place.
void scheduleTopologically(Graph &graph) {
  std::vector<Op *> ops;
  for (Op &op : graph.ops())
    ops.push_back(&op);
  llvm::DenseMap<Op *, size_t> index;
  for (size_t i = 0; i < ops.size(); ++i)
    index[ops[i]] = i;
  std::vector<std::vector<size_t>> succs(ops.size());
  std::vector<int> preds(ops.size(), 0);
  auto edge = [&](size_t from, size_t to) {
    succs[from].push_back(to);
    ++preds[to];
  };
  for (size_t i = 0; i < ops.size(); ++i)
    for (Value *o : ops[i]->operands())
      if (Op *d = o->definingOp())
        edge(index[d], i);
  // The terminator stays last.
  size_t term = ops.size() - 1;
  for (size_t i = 0; i + 1 < ops.size(); ++i)
    edge(i, term);
  // Readers of a variable before the producer of its new value, unless the
  // producer must come first.
  auto reaches = [&](size_t from, size_t to) {
    std::vector<size_t> stack{from};
    std::vector<bool> seen(ops.size(), false);
    while (!stack.empty()) {
      size_t n = stack.back();
      stack.pop_back();
      if (n == to)
        return true;
      for (size_t s : succs[n])
        if (!seen[s]) {
          seen[s] = true;
          stack.push_back(s);
        }
    }
    return false;
  };
  for (Op *op : ops) {
    if (!op->is(OpKind::Assign))
      continue;
    Op *producer = op->operand(1)->definingOp();
    if (!producer)
      continue;
    for (const Use &u : op->operand(0)->uses()) {
      size_t reader = index[u.user], p = index[producer];
      if (u.user == producer || u.user == op || reaches(p, reader))
        continue;
      edge(reader, p);
    }
  }
  // Kahn's algorithm, always taking the ready op that came first.
  std::set<size_t> ready;
  for (size_t i = 0; i < ops.size(); ++i)
    if (preds[i] == 0)
      ready.insert(i);
  std::vector<Op *> scheduled;
  while (!ready.empty()) {
    size_t n = *ready.begin();
    ready.erase(ready.begin());
    scheduled.push_back(ops[n]);
    for (size_t s : succs[n])
      if (--preds[s] == 0)
        ready.insert(s);
  }
  assert(scheduled.size() == ops.size() && "the graph has a cycle");
  for (Op *op : scheduled)
    graph.moveOp(op, graph.end());
}

} // namespace nnc
