//===- Suggestions.cpp - "did you mean ...?" for misspelled names ---------===//
#include "frontend/Suggestions.h"

namespace nnc::nn {

std::string closestMatch(llvm::StringRef word,
                         llvm::ArrayRef<std::string> candidates) {
  unsigned limit = std::max<unsigned>(1, (word.size() + 2) / 3);
  std::string best;
  unsigned bestDistance = limit + 1;
  for (const std::string &c : candidates) {
    if (c == word)
      continue;
    unsigned d = word.edit_distance(c, /*AllowReplacements=*/true, limit);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= limit ? best : "";
}

std::string didYouMean(llvm::StringRef word,
                       llvm::ArrayRef<std::string> candidates) {
  std::string match = closestMatch(word, candidates);
  return match.empty() ? "" : "; did you mean '" + match + "'?";
}

std::string joinAlternatives(llvm::ArrayRef<std::string> words) {
  std::string s;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i)
      s += i + 1 == words.size() ? " or " : ", ";
    s += words[i];
  }
  return s;
}

} // namespace nnc::nn
