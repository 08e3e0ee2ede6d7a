//===- KernelOutlining.cpp - A set of ops into one kernel op
//---------------===//
//
// The graph surgery behind fusion, apart from the choice of what to fuse:
// a set of ops moves into the body of a `kernel` op, with copies of the
// cheap values they read (constants, scalar arithmetic), so that code
// generation sees each kernel as a self-contained graph.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/Builder.h"
#include "ir/KernelForms.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

#include <functional>

namespace nnc {

Op *outlineKernel(Graph &graph, llvm::ArrayRef<Op *> members,
                  llvm::StringRef name,
                  llvm::function_ref<bool(const Op &)> recomputed,
                  llvm::function_ref<size_t(const Op *)> position) {
  assert(!members.empty() && "a kernel needs at least one op");
  llvm::DenseSet<Op *> memberSet(members.begin(), members.end());

  // What the body recomputes: the recomputed ops feeding members.
  std::vector<Op *> cloned;
  llvm::DenseSet<Op *> clonedSet;
  std::function<void(Value *)> collect = [&](Value *v) {
    Op *d = v->definingOp();
    if (!d || memberSet.contains(d) || clonedSet.contains(d) || !recomputed(*d))
      return;
    for (Value *o : d->operands())
      collect(o);
    clonedSet.insert(d);
    cloned.push_back(d);
  };
  for (Op *op : members)
    for (Value *o : op->operands())
      collect(o);
  llvm::sort(cloned, [&](Op *a, Op *b) { return position(a) < position(b); });

  // Inputs: values from outside read by members or copies; outputs: member
  // values read outside.
  llvm::SetVector<Value *> inputs, outputs;
  auto addInputs = [&](Op *op) {
    for (Value *o : op->operands()) {
      Op *d = o->definingOp();
      if (d && (memberSet.contains(d) || clonedSet.contains(d)))
        continue;
      inputs.insert(o);
    }
  };
  for (Op *op : cloned)
    addInputs(op);
  for (Op *op : members)
    addInputs(op);
  for (Op *op : members)
    for (Value *r : op->results())
      for (const Use &u : r->uses())
        if (!memberSet.contains(u.user))
          outputs.insert(r);

  Op *last = members.back();
  auto body = std::make_unique<Graph>(name.str());
  llvm::DenseMap<Value *, Value *> map;
  for (Value *in : inputs)
    map[in] = body->addArgument(in->type());
  Builder bb(*body);
  auto cloneInto = [&](Op *op) {
    llvm::SmallVector<Value *, 3> operands;
    for (Value *o : op->operands())
      operands.push_back(map.lookup(o));
    llvm::SmallVector<TensorType, 1> types;
    for (Value *r : op->results())
      types.push_back(r->type());
    Op *copy = body->createOp(body->end(), op->kind(), operands, types,
                              op->attrs(), op->loc());
    for (unsigned i = 0; i < op->numResults(); ++i) {
      copy->result(i)->setName(op->result(i)->name());
      map[op->result(i)] = copy->result(i);
    }
  };
  for (Op *op : cloned)
    cloneInto(op);
  for (Op *op : members)
    cloneInto(op);
  llvm::SmallVector<Value *, 4> yielded;
  llvm::SmallVector<TensorType, 4> resultTypes;
  for (Value *out : outputs) {
    yielded.push_back(map.lookup(out));
    resultTypes.push_back(out->type());
  }
  bb.setLoc(last->loc());
  bb.create(OpKind::Yield, yielded);
  // Only bodies code generation has a form for become kernels.
  if (!classifyKernel(*body))
    return nullptr;

  // The kernel goes where its last member was: every input is defined
  // before it. Users of its outputs that came earlier are moved after it
  // by the caller's rescheduling.
  AttrDict attrs;
  attrs.set("name", body->name());
  Op *kernel = graph.createOp(
      std::next(last->position()), OpKind::Kernel,
      llvm::SmallVector<Value *, 8>(inputs.begin(), inputs.end()), resultTypes,
      std::move(attrs), last->loc());
  kernel->setBody(std::move(body));
  for (unsigned i = 0; i < outputs.size(); ++i) {
    kernel->result(i)->setName(outputs[i]->name());
    outputs[i]->replaceAllUsesWith(kernel->result(i));
  }
  for (Op *op : llvm::reverse(members))
    op->dropAllReferences();
  for (Op *op : llvm::reverse(members))
    op->erase();
  return kernel;
}

} // namespace nnc
