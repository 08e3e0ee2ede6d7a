//===- ScalarBody.h - The element computation of a structured stage -*- C++
//-*-//
//
// A structured op computes each point of its iteration domain with a small
// expression over the operand elements read there and the loop indices: a
// ScalarBody. Bodies are data, so the interpreter can evaluate them and the
// code generator can emit them without knowing which op they came from.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_SCALARBODY_H
#define NNC_IR_SCALARBODY_H

#include "ir/Types.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace nnc {

enum class ScalarOp : uint8_t {
#define NNC_SCALAR(Name, Spelling, Arity) Name,
#include "ir/ScalarOps.def"
  Input,    ///< the element of stage operand `slot`
  Index,    ///< the loop index of domain dimension `slot`, as i32
  Constant, ///< `value`
  Compare,  ///< `predicate` of two operands, as i1
  Cast,     ///< the operand converted to the node's type
  /// A number in [0, 1) from the counter-based generator of
  /// ir/CounterRandom.h: seed `slot`, step and element index operands (i32).
  Uniform,
};

enum class Predicate : uint8_t { EQ, NE, LT, LE, GT, GE };

llvm::StringRef scalarOpName(ScalarOp op);
llvm::StringRef predicateName(Predicate p);
std::optional<Predicate> parsePredicate(llvm::StringRef name);

/// A node computes a value of element type `type` from earlier nodes.
struct ScalarNode {
  ScalarOp op;
  ElementType type;
  llvm::SmallVector<unsigned, 3> args;
  int64_t slot = 0; ///< Input: operand number; Index: dimension
  double value = 0; ///< Constant
  Predicate predicate = Predicate::EQ;
};

/// A DAG of ScalarNodes in definition order; the last node is the result.
class ScalarBody {
public:
  unsigned input(unsigned operand, ElementType type);
  unsigned index(unsigned dimension);
  unsigned constant(double value, ElementType type);
  unsigned apply(ScalarOp op, llvm::ArrayRef<unsigned> args);
  unsigned compare(Predicate p, unsigned a, unsigned b);
  unsigned cast(unsigned a, ElementType to);
  unsigned uniform(int64_t seed, unsigned step, unsigned index);

  llvm::ArrayRef<ScalarNode> nodes() const { return nodeList; }
  const ScalarNode &node(unsigned i) const { return nodeList[i]; }
  unsigned result() const { return unsigned(nodeList.size()) - 1; }
  ElementType type() const { return nodeList.back().type; }
  bool empty() const { return nodeList.empty(); }

  /// The body at a point: operand elements and loop indices in, the result
  /// out, computed in double as the reference semantics are.
  double evaluate(llvm::ArrayRef<double> inputs,
                  llvm::ArrayRef<int64_t> indices) const;

  /// A one-line form, e.g. `exp(sub(in0, in1))`.
  std::string str() const;

private:
  unsigned add(ScalarNode n);
  std::vector<ScalarNode> nodeList;
};

/// The reference semantics of one primitive on double operands; `from` is
/// the operand type of a Cast and of a Compare.
double evaluateScalar(const ScalarNode &n, llvm::ArrayRef<double> args,
                      ElementType from);

} // namespace nnc

#endif // NNC_IR_SCALARBODY_H
