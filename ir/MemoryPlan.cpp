//===- MemoryPlan.cpp - The variable block of a module --------------------===//
#include "ir/MemoryPlan.h"

#include "llvm/ADT/StringMap.h"

namespace nnc {

llvm::Expected<StateLayout> StateLayout::fromModule(const Module &m) {
  StateLayout layout;
  llvm::StringMap<size_t> index;
  for (const Graph &g : m.graphs())
    for (const Op &op : g.ops()) {
      if (!isVariable(op))
        continue;
      llvm::StringRef name = variableName(op);
      const TensorType &type = op.result()->type();
      auto [it, inserted] = index.try_emplace(name, layout.list.size());
      if (!inserted) {
        const Entry &e = layout.list[it->second];
        if (e.type != type)
          return llvm::createStringError(
              llvm::inconvertibleErrorCode(),
              op.loc().str() + ": variable \"" + name + "\" is " + type.str() +
                  " here but " + e.type.str() + " elsewhere");
        continue;
      }
      layout.list.push_back({name.str(), type, op.attrs().getString("init"),
                             op.is(OpKind::Param), layout.bytes});
      layout.bytes += alignTo(type.byteSize(), kBufferAlignment);
    }
  return layout;
}

const StateLayout::Entry *StateLayout::lookup(llvm::StringRef name) const {
  for (const Entry &e : list)
    if (e.name == name)
      return &e;
  return nullptr;
}

} // namespace nnc
