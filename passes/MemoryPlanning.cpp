//===- MemoryPlanning.cpp - Assigning buffers to values -------------------===//
#include "passes/MemoryPlanning.h"

#include "ir/StructureMatch.h"

#include "llvm/ADT/DenseSet.h"

#include <map>

namespace nnc {

namespace {

/// First-fit allocation of aligned blocks in a growing arena.
class ArenaAllocator {
public:
  int64_t allocate(int64_t bytes) {
    bytes = alignTo(std::max<int64_t>(bytes, 1), kBufferAlignment);
    for (auto it = freeBlocks.begin(); it != freeBlocks.end(); ++it) {
      auto [offset, size] = *it;
      if (size < bytes)
        continue;
      freeBlocks.erase(it);
      if (size > bytes)
        freeBlocks[offset + bytes] = size - bytes;
      return offset;
    }
    // Grow the arena, absorbing a free block at its end.
    int64_t offset = top;
    if (!freeBlocks.empty()) {
      auto last = std::prev(freeBlocks.end());
      if (last->first + last->second == top) {
        offset = last->first;
        freeBlocks.erase(last);
      }
    }
    top = offset + bytes;
    return offset;
  }

  void release(int64_t offset, int64_t bytes) {
    bytes = alignTo(std::max<int64_t>(bytes, 1), kBufferAlignment);
    auto [it, inserted] = freeBlocks.emplace(offset, bytes);
    assert(inserted && "double free in the arena plan");
    // Merge with the neighbours.
    auto next = std::next(it);
    if (next != freeBlocks.end() && it->first + it->second == next->first) {
      it->second += next->second;
      freeBlocks.erase(next);
    }
    if (it != freeBlocks.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        freeBlocks.erase(it);
      }
    }
  }

  int64_t size() const { return top; }

private:
  std::map<int64_t, int64_t> freeBlocks; ///< offset -> size
  int64_t top = 0;
};

/// True if computing `op` element by element never reads `var` at another
/// element than the one it writes: every op that reads it, directly or
/// through other ops, is element-wise over the variable's full shape.
/// A reshape keeps the row-major order, so a view of the variable (a
/// convolution filter [KH, KW, C, F] read as [KH*KW*C, F]) counts as the
/// variable, read at the element of the same flat index.
bool readsOnlyInStep(const Op &op, const Value *var) {
  auto isVar = [&](const Value *v) {
    while (const Op *d = v->definingOp()) {
      if (v == var || !d->is(OpKind::Reshape))
        break;
      v = d->operand(0);
    }
    return v == var;
  };
  auto fullShapeElementwise = [&](const Op &o, const Value *read) {
    if (!isElementwise(o))
      return false;
    return llvm::all_of(o.results(), [&](Value *r) {
      return r->type().shape() == read->type().shape();
    });
  };
  if (!op.body())
    return llvm::none_of(op.operands(), isVar) ||
           llvm::all_of(op.operands(), [&](const Value *v) {
             return !isVar(v) || fullShapeElementwise(op, v);
           });
  const Graph &body = *op.body();
  llvm::DenseMap<const Value *, const Value *> tainted; ///< -> the view read
  for (unsigned i = 0; i < op.numOperands(); ++i)
    if (isVar(op.operand(i)))
      tainted[body.argument(i)] = op.operand(i);
  for (const Op &inner : body.ops()) {
    if (inner.is(OpKind::Yield))
      continue;
    const Value *read = nullptr;
    for (Value *v : inner.operands())
      if (auto it = tainted.find(v); it != tainted.end()) {
        if (read && read->type().shape() != it->second->type().shape())
          return false;
        read = it->second;
      }
    if (!read)
      continue;
    if (!fullShapeElementwise(inner, read))
      return false;
    for (Value *r : inner.results())
      tainted[r] = read;
  }
  return true;
}

class Planner {
public:
  Planner(const Graph &g, const StateLayout &layout) : g(g), layout(layout) {}

  llvm::Expected<MemoryPlan> run() {
    for (const Op &op : g.ops())
      position[&op] = order.size(), order.push_back(&op);
    if (llvm::Error err = placeFixed())
      return err;
    placeAssignsInPlace();
    materializeEscapingConstants();
    planExchanges();
    computeLastUses();
    allocateArena();
    return std::move(plan);
  }

private:
  /// Variables, constants and aliases: everything whose place does not
  /// depend on lifetimes.
  llvm::Error placeFixed() {
    for (const Op *op : order) {
      if (isVariable(*op)) {
        const StateLayout::Entry *e = layout.lookup(variableName(*op));
        if (!e)
          return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                         "variable \"" + variableName(*op) +
                                             "\" is not in the layout");
        plan.slots[op->result()] = {Storage::State, e->offset};
      } else if (op->is(OpKind::Constant)) {
        plan.slots[op->result()] = {Storage::Constant, 0};
      } else if (op->is(OpKind::Reshape)) {
        // Same bytes, new shape: share the operand's buffer.
        aliasOf[op->result()] = root(op->operand(0));
      }
    }
    return llvm::Error::success();
  }

  const Value *root(const Value *v) const {
    auto it = aliasOf.find(v);
    return it == aliasOf.end() ? v : it->second;
  }

  void placeAssignsInPlace() {
    for (const Op *op : order) {
      if (!op->is(OpKind::Assign))
        continue;
      const Value *var = op->operand(0), *value = op->operand(1);
      const StateLayout::Entry *e =
          layout.lookup(variableName(*variableOf(var)));
      if (canWriteInPlace(*op, var, value)) {
        plan.slots[root(value)] = {Storage::State, e->offset};
        ++plan.inPlaceAssigns;
      } else {
        plan.finalCopies.push_back(
            {value, e->offset, value->type().byteSize()});
      }
    }
  }

  bool canWriteInPlace(const Op &assign, const Value *var, const Value *value) {
    // A view of a value (the filter update of a convolution computed as
    // [KH*KW*C, F]) is written in place by writing the value.
    value = root(value);
    const Op *producer = value->definingOp();
    if (!producer || isVariable(*producer) || producer->is(OpKind::Constant) ||
        producer->is(OpKind::Reshape) || producer->is(OpKind::AllReduce) ||
        plan.slots.count(value))
      return false;
    if (!readsOnlyInStep(*producer, var))
      return false;
    // Every other reader of the variable's old value must run first.
    size_t at = position[producer];
    for (const Use &use : var->uses())
      if (use.user != producer && use.user != &assign &&
          position[use.user] >= at)
        return false;
    // So must every reader of the variable through a reshape of it, but
    // the producer, which reads it element by element.
    for (const auto &[alias, target] : aliasOf)
      if (target == var)
        for (const Use &use : alias->uses())
          if (use.user != producer && position[use.user] >= at)
            return false;
    return true;
  }

  /// A constant needs no memory while kernels read it as an immediate or a
  /// global; one the runtime reads as a result, or copies into a variable,
  /// is written into the arena by a kernel of its own.
  void materializeEscapingConstants() {
    auto materialize = [&](const Value *v) {
      const Value *r = root(v);
      if (plan.slots.lookup(r).storage == Storage::Constant &&
          plan.slots.count(r))
        plan.slots.erase(r);
    };
    if (const Op *term = g.terminator())
      for (const Value *v : term->operands())
        materialize(v);
    for (const MemoryPlan::Copy &c : plan.finalCopies)
      materialize(c.value);
    // An exchange copies its operands from memory.
    for (const Op *op : order)
      if (op->is(OpKind::AllReduce))
        for (const Value *v : op->operands())
          materialize(v);
  }

  /// The values an `allreduce` sums lie side by side in one block, which the
  /// runtime exchanges as one range of floats. A value the allreduce alone
  /// reads from its position on is summed in place: it is computed into the
  /// block, and the results are its buffer. Any other (one read later, while
  /// the exchange is in flight; a variable; an argument) is copied into the
  /// block by the step before the exchange starts.
  void planExchanges() {
    llvm::DenseSet<const Value *> claimed;
    for (const Op *op : order) {
      if (!op->is(OpKind::AllReduce))
        continue;
      Group group;
      for (unsigned i = 0; i < op->numOperands(); ++i) {
        const Value *r = root(op->operand(i));
        const Value *member = op->result(i);
        if (r->definingOp() && !plan.slots.count(r) && !claimed.contains(r) &&
            onlyReadBefore(r, *op)) {
          aliasOf[op->result(i)] = r;
          member = r;
        }
        claimed.insert(member);
        groupOf[member] = groups.size();
        group.members.push_back(member);
      }
      group.at = position[op];
      groups.push_back(std::move(group));
    }
    // A reshape of a result now views the value summed in place.
    for (auto &[alias, target] : aliasOf)
      target = root(target);
  }

  /// Whether every reader of `v` (or of a view of it) other than `op` runs
  /// before it.
  bool onlyReadBefore(const Value *v, const Op &op) const {
    size_t at = position.lookup(&op);
    auto before = [&](const Value *x) {
      return llvm::all_of(x->uses(), [&](const Use &u) {
        return u.user == &op || position.lookup(u.user) < at;
      });
    };
    if (!before(v))
      return false;
    for (const auto &[alias, target] : aliasOf)
      if (target == v && !before(alias))
        return false;
    return true;
  }

  void computeLastUses() {
    for (const Op *op : order)
      for (const Value *v : op->operands()) {
        size_t &last = lastUse[root(v)];
        last = std::max(last, position[op]);
      }
    // The runtime reads the results after the step.
    if (const Op *term = g.terminator())
      for (const Value *v : term->operands())
        lastUse[root(v)] = order.size();
    // Values copied into variables at the end of the step live until then.
    for (const MemoryPlan::Copy &c : plan.finalCopies)
      lastUse[root(c.value)] = order.size();
    // A bucket is one block: it lives until its last member dies, and at
    // least until its exchange starts.
    for (const Group &group : groups) {
      size_t last = group.at;
      for (const Value *v : group.members)
        last = std::max(last, lastUse.lookup(v));
      for (const Value *v : group.members)
        lastUse[v] = last;
    }
  }

  void allocateArena() {
    ArenaAllocator arena;
    auto place = [&](const Value *v) {
      if (plan.slots.count(v) || aliasOf.count(v))
        return;
      if (auto it = groupOf.find(v); it != groupOf.end()) {
        // The whole bucket, when its first member is computed.
        int64_t bytes = 0;
        for (const Value *m : groups[it->second].members)
          bytes += alignTo(m->type().byteSize(), kBufferAlignment);
        int64_t offset = arena.allocate(bytes);
        for (const Value *m : groups[it->second].members) {
          plan.slots[m] = {Storage::Arena, offset};
          offset += alignTo(m->type().byteSize(), kBufferAlignment);
        }
        plan.bytesWithoutReuse += bytes;
        return;
      }
      int64_t bytes = v->type().byteSize();
      plan.slots[v] = {Storage::Arena, arena.allocate(bytes)};
      plan.bytesWithoutReuse += alignTo(bytes, kBufferAlignment);
      if (!lastUse.count(v))
        dead.push_back(v); // never read: free after its op
    };
    // The batch is written before the step starts.
    for (const Value *arg : g.arguments())
      place(arg);
    std::vector<std::vector<const Value *>> dyingAt(order.size() + 1);
    for (const auto &[v, last] : lastUse)
      dyingAt[last].push_back(v);
    for (size_t p = 0; p < order.size(); ++p) {
      for (const Value *r : order[p]->results())
        place(r);
      // Results are placed before operands die, so an op never writes a
      // buffer it is still reading.
      auto release = [&](const Value *v) {
        BufferSlot s = plan.slots.lookup(v);
        if (s.storage == Storage::Arena)
          arena.release(s.offset, v->type().byteSize());
      };
      for (const Value *v : dyingAt[p])
        release(v);
      for (const Value *v : dead)
        release(v);
      dead.clear();
    }
    // Aliases share their root's slot.
    for (const auto &[alias, target] : aliasOf)
      plan.slots[alias] = plan.slots.lookup(target);
    plan.arenaBytes = arena.size();
  }

  const Graph &g;
  const StateLayout &layout;
  MemoryPlan plan;
  std::vector<const Op *> order;
  llvm::DenseMap<const Op *, size_t> position;
  llvm::DenseMap<const Value *, const Value *> aliasOf;
  llvm::DenseMap<const Value *, size_t> lastUse;
  std::vector<const Value *> dead;
  /// The values of each allreduce, in operand order, laid out contiguously.
  struct Group {
    std::vector<const Value *> members;
    size_t at; ///< the allreduce's position
  };
  std::vector<Group> groups;
  llvm::DenseMap<const Value *, size_t> groupOf;
};

} // namespace

llvm::Expected<MemoryPlan> planMemory(const Graph &g,
                                      const StateLayout &layout) {
  return Planner(g, layout).run();
}

} // namespace nnc
