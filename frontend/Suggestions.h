//===- Suggestions.h - "did you mean ...?" for misspelled names -*- C++ -*-===//
//
// Unknown names, functions, keyword arguments and settings are usually typos
// of a known one; the error then says which.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_SUGGESTIONS_H
#define NNC_FRONTEND_SUGGESTIONS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace nnc::nn {

/// The candidate closest to `word` by edit distance, if it is close enough
/// to be a plausible typo (about a third of the word's letters); else "".
std::string closestMatch(llvm::StringRef word,
                         llvm::ArrayRef<std::string> candidates);

/// "; did you mean 'x'?" for the closest candidate, or "".
std::string didYouMean(llvm::StringRef word,
                       llvm::ArrayRef<std::string> candidates);

/// "a, b or c".
std::string joinAlternatives(llvm::ArrayRef<std::string> words);

} // namespace nnc::nn

#endif // NNC_FRONTEND_SUGGESTIONS_H
