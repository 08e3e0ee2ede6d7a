//===- Fusion.cpp - Grouping ops into kernels by their class --------------===//
//
// Greedy fusion by op class, in the spirit of TVM's FuseOps:
//
// - A matmul takes its element-wise epilogue: the ops computed at its output
//   shape from its result (a bias, relu, the relu mask of the backward pass,
//   the optimizer update of the weight whose gradient it is), with their side
//   inputs and the element-wise side computations only the epilogue uses.
//   Matmuls are visited last to first, so a mask computed from a forward
//   activation goes to the backward product that applies it.
// - A row-wise group gathers what works along the rows of a [rows, cols]
//   tensor: softmax, cross-entropy and its gradient, argmax and accuracy,
//   their element-wise neighbours, the reductions over the batch of per-row
//   values, and element-wise ops on those (a bias gradient's update).
// - Remaining element-wise ops of one shape chain into one loop.
//
// Scalar element-wise ops (Adam's step size, say) join no group: every kernel
// that needs one recomputes it from its inputs, which costs a few
// instructions and saves a trip through memory and a barrier. Groups stay
// convex: no path leaves a group and comes back.
//
// An exchange in flight (an `allreduce` of a data-parallel step) splits the
// graph: no group holds both an op that waits for an exchange and one that
// an exchange waits for. Such a kernel would run where its last op stood,
// after the first exchange completes, and hold back the start of the second.
//
// Each group becomes a `kernel` op whose body holds the group's ops (and
// copies of the scalar ops and constants it reads); ops that fuse with
// nothing stay as they are and compile to a kernel of their own.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/KernelForms.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace nnc {

namespace {

enum class GroupKind { Contraction, Rowwise, Elementwise };

/// Where a row-wise group's value is computed: per row, or after the rows
/// have been reduced over the batch.
enum class Phase { Row, Post };

struct Group {
  GroupKind kind;
  llvm::SetVector<Op *> ops;
  Shape space; ///< contraction: [M, N]; row-wise: [rows, cols]
  llvm::DenseMap<Op *, Phase> phase; ///< row-wise only
};

bool isElementwise(const Op &op) {
  return op.def().fusion == FusionClass::Elementwise;
}

/// Element-wise ops on scalars are recomputed where needed.
bool isScalarOp(const Op &op) { return isScalarElementwise(op); }

bool isCompute(const Op &op) {
  FusionClass c = op.def().fusion;
  return c != FusionClass::Structural && c != FusionClass::Source &&
         !op.is(OpKind::Reshape);
}

class Fusion : public GraphPass {
public:
  llvm::StringRef name() const override { return "fusion"; }
  llvm::StringRef description() const override {
    return "group ops into kernels: matmul epilogues, row-wise softmax and "
           "loss, element-wise chains";
  }
  llvm::LogicalResult runOnGraph(Graph &g, DiagnosticEngine &) override {
    fuse(g);
    return llvm::success();
  }

private:
  //===--------------------------------------------------------------------===//
  // Bookkeeping
  //===--------------------------------------------------------------------===//

  std::vector<Op *> order;
  llvm::DenseMap<const Op *, size_t> position;
  std::vector<Group> groups;
  llvm::DenseMap<const Op *, int> groupOf;

  bool free(const Op *op) const { return !groupOf.count(op); }

  bool inGroup(const Value *v, const Group &g) const {
    Op *def = v->definingOp();
    return def && g.ops.contains(def);
  }

  /// True if adding `extra` to `members` would let a path leave the set and
  /// come back: a user outside the set reaches a member. Another group runs
  /// as one kernel, so reaching one of its ops reaches all of them: two
  /// groups that each read the other are a cycle though no op path is.
  /// The search cannot stop at the set's last op, as a search through ops
  /// alone could: past it, a path may still reach a group that holds ops
  /// before it.
  bool createsCycle(const llvm::SetVector<Op *> &members,
                    llvm::ArrayRef<Op *> extra) const {
    if (crossesExchange(members, extra))
      return true;
    llvm::DenseSet<const Op *> set(members.begin(), members.end());
    set.insert(extra.begin(), extra.end());
    std::vector<const Op *> stack;
    llvm::DenseSet<const Op *> seen;
    auto pushUsers = [&](const Op *op) {
      for (Value *r : op->results())
        for (const Use &u : r->uses())
          if (!set.contains(u.user) && seen.insert(u.user).second)
            stack.push_back(u.user);
    };
    for (const Op *op : set)
      pushUsers(op);
    llvm::DenseSet<int> groupsReached;
    while (!stack.empty()) {
      const Op *op = stack.back();
      stack.pop_back();
      std::vector<const Op *> reached{op};
      if (auto it = groupOf.find(op);
          it != groupOf.end() && groupsReached.insert(it->second).second)
        reached.assign(groups[it->second].ops.begin(),
                       groups[it->second].ops.end());
      for (const Op *r : reached) {
        for (Value *v : r->results())
          for (const Use &u : v->uses())
            if (set.contains(u.user))
              return true;
        pushUsers(r);
      }
    }
    return false;
  }

  /// Ops that an allreduce reads, directly or not, and ops that read one's
  /// results: the two sides of the exchanges in flight.
  llvm::DenseSet<const Op *> feedsExchange, awaitsExchange;

  void findExchangeSides() {
    feedsExchange.clear();
    awaitsExchange.clear();
    for (Op *op : order)
      for (Value *v : op->operands())
        if (Op *d = v->definingOp();
            d && (d->is(OpKind::AllReduce) || awaitsExchange.contains(d)))
          awaitsExchange.insert(op);
    for (Op *op : llvm::reverse(order))
      for (Value *r : op->results())
        for (const Use &u : r->uses())
          if (u.user->is(OpKind::AllReduce) || feedsExchange.contains(u.user))
            feedsExchange.insert(op);
  }

  /// Whether the set would hold ops on both sides of the exchanges.
  bool crossesExchange(const llvm::SetVector<Op *> &members,
                       llvm::ArrayRef<Op *> extra) const {
    if (feedsExchange.empty())
      return false;
    bool feeds = false, awaits = false;
    auto note = [&](const Op *op) {
      feeds |= feedsExchange.contains(op);
      awaits |= awaitsExchange.contains(op);
    };
    llvm::for_each(members, note);
    llvm::for_each(extra, note);
    return feeds && awaits;
  }

  int newGroup(GroupKind kind, Shape space, Op *first) {
    Group g;
    g.kind = kind;
    g.space = std::move(space);
    groups.push_back(std::move(g));
    addToGroup(groups.size() - 1, first);
    return int(groups.size()) - 1;
  }

  void addToGroup(int gi, Op *op) {
    groups[gi].ops.insert(op);
    groupOf[op] = gi;
  }

  //===--------------------------------------------------------------------===//
  // Contraction groups
  //===--------------------------------------------------------------------===//

  /// An element-wise producer of an epilogue's side input, computed at the
  /// output shape from values outside the group and used by nothing else.
  Op *sideComputation(Value *v, const Group &g, Op *user) {
    Op *p = v->definingOp();
    if (!p || !free(p) || !isElementwise(*p) || isScalarOp(*p) ||
        p->result()->type().shape() != llvm::ArrayRef<int64_t>(g.space))
      return nullptr;
    for (const Use &u : p->result()->uses())
      if (u.user != user && !g.ops.contains(u.user))
        return nullptr;
    for (Value *o : p->operands())
      if (inGroup(o, g) || !broadcastsTo(o->type().shape(), g.space))
        return nullptr;
    return p;
  }

  void growContraction(int gi) {
    bool changed = true;
    while (changed) {
      changed = false;
      std::vector<Op *> candidates;
      for (Op *member : groups[gi].ops)
        for (Value *r : member->results())
          for (const Use &u : r->uses())
            if (free(u.user) && !llvm::is_contained(candidates, u.user))
              candidates.push_back(u.user);
      llvm::sort(candidates,
                 [&](Op *a, Op *b) { return position[a] < position[b]; });
      for (Op *u : candidates) {
        Group &g = groups[gi];
        if (!isElementwise(*u) || isScalarOp(*u) ||
            u->result()->type().shape() != llvm::ArrayRef<int64_t>(g.space))
          continue;
        std::vector<Op *> extra{u};
        bool ok = true;
        for (Value *o : u->operands()) {
          if (inGroup(o, g) || o->type().isScalar())
            continue;
          if (!broadcastsTo(o->type().shape(), g.space)) {
            ok = false;
            break;
          }
          if (Op *side = sideComputation(o, g, u))
            extra.push_back(side);
        }
        if (!ok || createsCycle(g.ops, extra))
          continue;
        for (Op *op : extra)
          addToGroup(gi, op);
        changed = true;
      }
    }
  }

  //===--------------------------------------------------------------------===//
  // Row-wise groups
  //===--------------------------------------------------------------------===//

  /// The [rows, cols] an op works on along its rows, if it anchors a
  /// row-wise group.
  static std::optional<std::pair<int64_t, int64_t>> rowwiseSpace(const Op &op) {
    if (op.numOperands() == 0 || op.numResults() != 1)
      return std::nullopt;
    const TensorType &in = op.operand(0)->type();
    switch (op.kind()) {
    case OpKind::Softmax:
    case OpKind::LogSoftmax:
    case OpKind::SoftmaxCrossEntropy:
      if (in.rank() == 2)
        return std::make_pair(in.dim(0), in.dim(1));
      return std::nullopt;
    case OpKind::ArgMax:
      if (in.rank() == 2 && op.attrs().getInt("axis") == 1)
        return std::make_pair(in.dim(0), in.dim(1));
      return std::nullopt;
    case OpKind::ReduceSum:
    case OpKind::ReduceMean:
    case OpKind::ReduceMax: {
      const std::vector<int64_t> &axes = op.attrs().getIntList("axes");
      if (axes.size() != 1 || op.attrs().getBool("keepdims") || in.rank() > 2)
        return std::nullopt;
      if (in.rank() == 2)
        return std::make_pair(in.dim(0), in.dim(1));
      if (axes[0] == 0) // a batch reduction of per-row scalars
        return std::make_pair(in.dim(0), int64_t(1));
      return std::nullopt;
    }
    default:
      return std::nullopt;
    }
  }

  /// Whether `op` can join row-wise group `g`, and in which phase.
  std::optional<Phase> rowwisePhase(const Op &op, const Group &g) {
    int64_t rows = g.space[0], cols = g.space[1];
    auto phaseOf = [&](Value *v) -> std::optional<Phase> {
      Op *d = v->definingOp();
      if (d && g.ops.contains(d))
        return g.phase.lookup(d);
      return std::nullopt;
    };
    Shape rowShapes[] = {{rows, cols}, {rows}, {rows, 1}};
    auto isRowShape = [&](llvm::ArrayRef<int64_t> s) {
      return llvm::any_of(rowShapes,
                          [&](const Shape &r) { return r == Shape(s); });
    };
    auto isPostShape = [&](llvm::ArrayRef<int64_t> s) {
      return s.empty() || (s.size() == 1 && s[0] == cols);
    };
    const TensorType &result = op.result()->type();

    if (auto space = rowwiseSpace(op)) {
      if (isBatchReduction(op)) {
        // [rows] -> [] or [rows, cols] -> [cols]: the row phase's values,
        // summed over the batch.
        const TensorType &in = op.operand(0)->type();
        if (in.dim(0) != rows || (in.rank() == 2 && in.dim(1) != cols))
          return std::nullopt;
        auto p = phaseOf(op.operand(0));
        if (p && *p != Phase::Row)
          return std::nullopt;
        return Phase::Post;
      }
      if (*space != std::make_pair(rows, cols))
        return std::nullopt;
      auto p = phaseOf(op.operand(0));
      if (p && *p != Phase::Row)
        return std::nullopt;
      return Phase::Row;
    }
    if (op.is(OpKind::OneHot)) {
      if (op.operand(0)->type().shape() != llvm::ArrayRef<int64_t>{rows} ||
          result.dim(1) != cols)
        return std::nullopt;
      return Phase::Row;
    }
    if (!isElementwise(op) || isScalarOp(op))
      return std::nullopt;
    std::optional<Phase> phase;
    for (Value *o : op.operands()) {
      auto p = phaseOf(o);
      if (!p)
        continue;
      if (phase && *phase != *p)
        return std::nullopt;
      phase = p;
    }
    if (!phase) // all inputs outside: decided by the users
      return std::nullopt;
    if (*phase == Phase::Row) {
      if (!isRowShape(result.shape()))
        return std::nullopt;
      for (Value *o : op.operands())
        if (!phaseOf(o) && !o->type().isScalar() &&
            !isRowShape(o->type().shape()) &&
            !(o->type().shape() == llvm::ArrayRef<int64_t>{cols}))
          return std::nullopt;
      return Phase::Row;
    }
    if (!isPostShape(result.shape()))
      return std::nullopt;
    for (Value *o : op.operands())
      if (!phaseOf(o) && !isPostShape(o->type().shape()))
        return std::nullopt;
    return Phase::Post;
  }

  void growRowwise(int gi) {
    bool changed = true;
    while (changed) {
      changed = false;
      std::vector<Op *> candidates;
      auto consider = [&](Op *op) {
        if (op && free(op) && isCompute(*op) &&
            !llvm::is_contained(candidates, op))
          candidates.push_back(op);
      };
      for (Op *member : groups[gi].ops) {
        for (Value *r : member->results())
          for (const Use &u : r->uses())
            consider(u.user);
        // Siblings reading the same rows (argmax and softmax of the logits).
        for (Value *o : member->operands())
          if (!inGroup(o, groups[gi]) && !o->type().isScalar())
            for (const Use &u : o->uses())
              consider(u.user);
        // Producers used only here (one_hot of the labels).
        for (Value *o : member->operands())
          if (Op *p = o->definingOp())
            if (llvm::all_of(p->results(), [&](Value *r) {
                  return llvm::all_of(r->uses(), [&](const Use &u) {
                    return groups[gi].ops.contains(u.user);
                  });
                }))
              consider(p);
      }
      llvm::sort(candidates,
                 [&](Op *a, Op *b) { return position[a] < position[b]; });
      for (Op *c : candidates) {
        Group &g = groups[gi];
        std::optional<Phase> phase = rowwisePhase(*c, g);
        if (!phase) {
          // An element-wise producer of member inputs only: its phase is
          // that of its users.
          if (isElementwise(*c) && !isScalarOp(*c)) {
            std::optional<Phase> users;
            bool consistent = true;
            for (const Use &u : c->result()->uses()) {
              auto it = g.phase.find(u.user);
              if (it == g.phase.end() || (users && *users != it->second))
                consistent = false;
              else
                users = it->second;
            }
            llvm::ArrayRef<int64_t> shape = c->result()->type().shape();
            bool rowShape = shape == llvm::ArrayRef<int64_t>(g.space);
            bool postShape = shape.size() == 1 && shape[0] == g.space[1];
            if (consistent && users &&
                ((*users == Phase::Row && rowShape) ||
                 (*users == Phase::Post && postShape)))
              phase = users;
          }
          if (!phase)
            continue;
        }
        if (createsCycle(g.ops, {c}))
          continue;
        addToGroup(gi, c);
        g.phase[c] = *phase;
        changed = true;
      }
    }
  }

  //===--------------------------------------------------------------------===//
  // Element-wise groups
  //===--------------------------------------------------------------------===//

  void growElementwise(int gi) {
    bool changed = true;
    while (changed) {
      changed = false;
      std::vector<Op *> candidates;
      for (Op *member : groups[gi].ops) {
        for (Value *r : member->results())
          for (const Use &u : r->uses())
            if (free(u.user) && !llvm::is_contained(candidates, u.user))
              candidates.push_back(u.user);
        for (Value *o : member->operands())
          if (Op *p = o->definingOp())
            if (free(p) && !llvm::is_contained(candidates, p))
              candidates.push_back(p);
      }
      for (Op *c : candidates) {
        Group &g = groups[gi];
        if (!isElementwise(*c) || isScalarOp(*c) ||
            c->result()->type().shape() != llvm::ArrayRef<int64_t>(g.space) ||
            createsCycle(g.ops, {c}))
          continue;
        addToGroup(gi, c);
        changed = true;
      }
    }
  }

  //===--------------------------------------------------------------------===//
  // Driver
  //===--------------------------------------------------------------------===//

  void fuse(Graph &graph) {
    order.clear();
    position.clear();
    groups.clear();
    groupOf.clear();
    for (Op &op : graph.ops()) {
      position[&op] = order.size();
      order.push_back(&op);
    }
    findExchangeSides();

    for (Op *op : llvm::reverse(order))
      if (op->is(OpKind::MatMul) && free(op))
        growContraction(newGroup(GroupKind::Contraction,
                                 Shape(op->result()->type().shape()), op));
    for (Op *op : order)
      if (free(op))
        if (auto space = rowwiseSpace(*op)) {
          int gi = newGroup(GroupKind::Rowwise,
                            Shape{space->first, space->second}, op);
          groups[gi].phase[op] =
              isBatchReduction(*op) ? Phase::Post : Phase::Row;
          growRowwise(gi);
        }
    for (Op *op : order)
      if (free(op) && isElementwise(*op) && !isScalarOp(*op))
        growElementwise(newGroup(GroupKind::Elementwise,
                                 Shape(op->result()->type().shape()), op));
    // A scalar whose value must live in memory (the Adam step counter,
    // assigned to its state) gets a kernel of its own.
    for (Op *op : order)
      if (isScalarOp(*op) && free(op) && needsMemory(*op))
        newGroup(GroupKind::Elementwise, Shape(), op);

    numKernels += buildKernels(graph);
  }

  /// Whether a scalar op's result is read by something that does not
  /// recompute it: an assignment, the graph's results, an unfused op.
  bool needsMemory(const Op &op) const {
    for (const Use &u : op.result()->uses()) {
      const Op *user = u.user;
      if (isScalarOp(*user))
        continue;
      if (!groupOf.count(user))
        return true;
    }
    return false;
  }

  unsigned buildKernels(Graph &graph);

  Statistic numKernels{this, "kernels", "fused kernels formed"};
  Statistic numFusedOps{this, "ops-fused", "ops moved into fused kernels"};
};

//===----------------------------------------------------------------------===//
// Building the kernel ops
//===----------------------------------------------------------------------===//

std::string kernelName(const Group &g, const llvm::SetVector<Op *> &ops) {
  bool updates = llvm::any_of(ops, [](Op *op) {
    return llvm::any_of(op->result()->uses(), [](const Use &u) {
      return u.user->is(OpKind::Assign);
    });
  });
  std::vector<std::string> names;
  for (Op *op : ops) {
    if (isScalarOp(*op) && g.kind != GroupKind::Elementwise)
      continue;
    std::string n = op->name().str();
    if (!llvm::is_contained(names, n))
      names.push_back(n);
  }
  std::string name = "fused";
  size_t shown = updates ? 1 : 3;
  for (size_t i = 0; i < names.size() && i < shown; ++i)
    name += "_" + names[i];
  if (updates)
    name += "_update";
  return name;
}

unsigned Fusion::buildKernels(Graph &graph) {
  unsigned built = 0;
  for (Group &g : groups) {
    // A group of one op stays a plain op, but for a lone product or row
    // reduction (a gradient whose update waits for the exchange of a
    // data-parallel step): as a kernel, the tuned generators compile it.
    if (g.ops.size() == 1 && g.kind == GroupKind::Elementwise &&
        !g.space.empty())
      continue;
    std::vector<Op *> members(g.ops.begin(), g.ops.end());
    llvm::sort(members,
               [&](Op *a, Op *b) { return position[a] < position[b]; });
    llvm::SetVector<Op *> ordered(members.begin(), members.end());
    auto recomputed = [&](const Op &op) {
      return op.is(OpKind::Constant) || (isScalarOp(op) && free(&op));
    };
    if (!outlineKernel(graph, members, kernelName(g, ordered), recomputed,
                       [&](const Op *op) { return position.lookup(op); }))
      continue;
    numFusedOps += members.size();
    ++built;
  }
  if (built) {
    // The originals of recomputed scalars and constants may now be dead.
    eraseDeadOps(graph);
    scheduleTopologically(graph);
  }
  return built;
}

} // namespace

std::unique_ptr<Pass> createFusionPass() { return std::make_unique<Fusion>(); }

} // namespace nnc
