//===- Fusion.cpp - Grouping ops into kernels by their class --------------===//
//
// Greedy fusion by op class, in the spirit of TVM's FuseOps:
//
// - A product (a matmul) takes its element-wise epilogue: the ops computed at
// its output
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
// What a group may hold is not decided here: the kernel forms of
// ir/KernelForms.h, read off the ops' structured descriptions, are asked
// whether the group with a candidate added still compiles to a specialised
// kernel. This pass decides only what is worth trying: which op anchors a
// group and which neighbours to offer it.
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

struct Group {
  KernelForm kind;
  llvm::SetVector<Op *> ops;
  Shape space; ///< contraction: [M, N]; row-wise: [rows, cols]
};

/// Element-wise ops on scalars are recomputed where needed.
bool isScalarOp(const Op &op) { return isScalarElementwise(op); }

/// Ops that compute (they have a structured description); a reshape is a
/// view of its operand's memory and never worth a kernel.
bool isCompute(const Op &op) {
  return !op.is(OpKind::Reshape) && describe(op).has_value();
}

/// The [rows, cols] a row-wise group anchored at `op` works on.
std::optional<Shape> rowwiseAnchor(const Op &op) {
  if (auto s = rowSpaceOf(op))
    return Shape{s->first, s->second};
  if (isBatchReduction(op)) {
    const TensorType &in = op.operand(0)->type();
    return Shape{in.dim(0), in.rank() == 2 ? in.dim(1) : 1};
  }
  return std::nullopt;
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

  int newGroup(KernelForm kind, Shape space, Op *first) {
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

  /// Whether group `gi` with `extra` added still has the group's kernel
  /// form over the same space, and stays convex.
  bool canJoin(int gi, llvm::ArrayRef<Op *> extra) const {
    const Group &g = groups[gi];
    std::vector<const Op *> ops(g.ops.begin(), g.ops.end());
    ops.insert(ops.end(), extra.begin(), extra.end());
    llvm::sort(ops, [&](const Op *a, const Op *b) {
      return position.lookup(a) < position.lookup(b);
    });
    std::optional<KernelFormInfo> form = classifyOps(ops);
    if (!form || form->form != g.kind ||
        (g.kind != KernelForm::Elementwise && form->space != g.space))
      return false;
    return !createsCycle(g.ops, extra);
  }

  /// Free ops that read a result of group `gi`, in program order.
  std::vector<Op *> usersOf(int gi) const {
    std::vector<Op *> users;
    for (Op *member : groups[gi].ops)
      for (Value *r : member->results())
        for (const Use &u : r->uses())
          if (free(u.user) && isCompute(*u.user) && !isScalarOp(*u.user) &&
              !llvm::is_contained(users, u.user))
            users.push_back(u.user);
    llvm::sort(users, [&](Op *a, Op *b) {
      return position.lookup(a) < position.lookup(b);
    });
    return users;
  }

  /// Whether every use of `op`'s results is by a member of group `gi`.
  bool usedOnlyBy(const Op &op, int gi) const {
    return llvm::all_of(op.results(), [&](Value *r) {
      return llvm::all_of(r->uses(), [&](const Use &u) {
        return groups[gi].ops.contains(u.user);
      });
    });
  }

  //===--------------------------------------------------------------------===//
  // Contraction groups
  //===--------------------------------------------------------------------===//

  /// An element-wise producer of an epilogue's side input, computed at the
  /// output shape from values outside the group and used by nothing else:
  /// it rides along rather than making a pass over memory of its own.
  Op *sideComputation(Value *v, int gi, Op *user) {
    const Group &g = groups[gi];
    Op *p = v->definingOp();
    if (!p || !free(p) || !isElementwise(*p) || isScalarOp(*p) ||
        p->result()->type().shape() != llvm::ArrayRef<int64_t>(g.space))
      return nullptr;
    for (const Use &u : p->result()->uses())
      if (u.user != user && !g.ops.contains(u.user))
        return nullptr;
    return p;
  }

  /// Offers the product's users at its output shape (the epilogue), each
  /// with the side computations only it needs.
  void growContraction(int gi) {
    bool changed = true;
    while (changed) {
      changed = false;
      for (Op *u : usersOf(gi)) {
        if (u->result()->type().shape() !=
            llvm::ArrayRef<int64_t>(groups[gi].space))
          continue;
        std::vector<Op *> extra{u};
        for (Value *o : u->operands())
          if (!groups[gi].ops.contains(o->definingOp()))
            if (Op *side = sideComputation(o, gi, u))
              extra.push_back(side);
        if (!canJoin(gi, extra))
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

  /// Offers a row-wise group its users, the row ops reading the same rows
  /// (argmax next to softmax of the logits), and producers only it reads
  /// (one_hot of the labels).
  void growRowwise(int gi) {
    bool changed = true;
    while (changed) {
      changed = false;
      std::vector<Op *> candidates = usersOf(gi);
      auto offer = [&](Op *op) {
        if (op && free(op) && isCompute(*op) && !isScalarOp(*op) &&
            !llvm::is_contained(candidates, op))
          candidates.push_back(op);
      };
      for (Op *member : groups[gi].ops)
        for (Value *o : member->operands()) {
          if (o->type().isScalar() || groups[gi].ops.contains(o->definingOp()))
            continue;
          for (const Use &u : o->uses())
            if (rowwiseAnchor(*u.user) || rowExpansionOf(*u.user))
              offer(u.user);
          if (Op *p = o->definingOp(); p && usedOnlyBy(*p, gi))
            offer(p);
        }
      llvm::sort(candidates, [&](Op *a, Op *b) {
        return position.lookup(a) < position.lookup(b);
      });
      for (Op *c : candidates) {
        if (!free(c) || !canJoin(gi, {c}))
          continue;
        addToGroup(gi, c);
        changed = true;
      }
    }
  }

  //===--------------------------------------------------------------------===//
  // Element-wise groups
  //===--------------------------------------------------------------------===//

  /// Offers an element-wise chain its users and producers of its shape.
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
        if (!free(c) || !isCompute(*c) || isScalarOp(*c) ||
            c->result()->type().shape() !=
                llvm::ArrayRef<int64_t>(groups[gi].space) ||
            !canJoin(gi, {c}))
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
      if (free(op) && matchProduct(*op))
        growContraction(newGroup(KernelForm::Contraction,
                                 Shape(op->result()->type().shape()), op));
    for (Op *op : order)
      if (free(op))
        if (std::optional<Shape> space = rowwiseAnchor(*op))
          growRowwise(newGroup(KernelForm::Rowwise, *space, op));
    for (Op *op : order)
      if (free(op) && isElementwise(*op) && !isScalarOp(*op))
        growElementwise(newGroup(KernelForm::Elementwise,
                                 Shape(op->result()->type().shape()), op));
    // A scalar whose value must live in memory (the Adam step counter,
    // assigned to its state) gets a kernel of its own.
    for (Op *op : order)
      if (isScalarOp(*op) && free(op) && needsMemory(*op))
        newGroup(KernelForm::Elementwise, Shape(), op);

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

/// Whether `v` is assigned to a variable, itself or through reshapes (a
/// convolution's filter is updated through its [K, F] view).
bool isAssigned(const Value *v) {
  return llvm::any_of(v->uses(), [](const Use &u) {
    return u.user->is(OpKind::Assign) ||
           (u.user->is(OpKind::Reshape) && isAssigned(u.user->result()));
  });
}

std::string kernelName(const Group &g, const llvm::SetVector<Op *> &ops) {
  bool updates =
      llvm::any_of(ops, [](Op *op) { return isAssigned(op->result()); });
  std::vector<std::string> names;
  for (Op *op : ops) {
    if (isScalarOp(*op) && g.kind != KernelForm::Elementwise)
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
    if (g.ops.size() == 1 && g.kind == KernelForm::Elementwise &&
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
