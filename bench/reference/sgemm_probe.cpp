//===- sgemm_probe.cpp - OpenBLAS sgemm at the training step's shapes -----===//
//
// Times single-threaded cblas_sgemm at every product of the benchmark's two
// MLPs (forward X W, backward X^T dY and dY W^T), at the convnet's products
// over patches (docs/codegen.md, "Convolutions"), and at a square 1024^3,
// and prints GFLOP/s, best of several rounds. bench/openblas_coretypes.sh
// runs it under each OPENBLAS_CORETYPE to pick the fastest kernels for this
// machine; its rates are the machine's sgemm rate that `nnc --profile`'s
// kernels are compared with (docs/benchmarks.md, "The convnet").
//
//===----------------------------------------------------------------------===//
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace {

struct Shape {
  const char *what;
  CBLAS_TRANSPOSE ta, tb;
  int m, n, k;
};

double secondsPerCall(const Shape &s, std::vector<float> &a,
                      std::vector<float> &b, std::vector<float> &c) {
  int lda = s.ta == CblasNoTrans ? s.k : s.m;
  int ldb = s.tb == CblasNoTrans ? s.n : s.k;
  double flops = 2.0 * s.m * s.n * s.k;
  int calls = std::max(20, int(2e9 / flops)); // about 2 GFLOP per round
  double best = 1e9;
  for (int round = 0; round < 5; ++round) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i)
      cblas_sgemm(CblasRowMajor, s.ta, s.tb, s.m, s.n, s.k, 1.0f, a.data(), lda,
                  b.data(), ldb, 0.0f, c.data(), s.n);
    std::chrono::duration<double> took =
        std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count() / calls);
  }
  return best;
}

} // namespace

int main() {
  openblas_set_num_threads(1);
  std::printf("openblas: core %s\n", openblas_get_corename());
  const Shape shapes[] = {
      {"seed  X W       32x784 * 784x128", CblasNoTrans, CblasNoTrans, 32, 128,
       784},
      {"seed  X^T dY    784x32 * 32x128", CblasTrans, CblasNoTrans, 784, 128,
       32},
      {"seed  dY W^T    32x10 * 10x128", CblasNoTrans, CblasTrans, 32, 128, 10},
      {"wide  X W       128x784 * 784x512", CblasNoTrans, CblasNoTrans, 128,
       512, 784},
      {"wide  H W       128x512 * 512x512", CblasNoTrans, CblasNoTrans, 128,
       512, 512},
      {"wide  X^T dY    784x128 * 128x512", CblasTrans, CblasNoTrans, 784, 512,
       128},
      {"wide  H^T dY    512x128 * 128x512", CblasTrans, CblasNoTrans, 512, 512,
       128},
      {"wide  dY W^T    128x512 * 512x512", CblasNoTrans, CblasTrans, 128, 512,
       512},
      // examples/mnist_cnn.nn at batch 128: M output pixels, K = kh kw in.
      {"cnn   conv1 P W   86528x9 * 9x32", CblasNoTrans, CblasNoTrans, 86528,
       32, 9},
      {"cnn   conv1 P^T dY 9x86528 * 86528x32", CblasTrans, CblasNoTrans, 9, 32,
       86528},
      {"cnn   conv2 P W   15488x288 * 288x64", CblasNoTrans, CblasNoTrans,
       15488, 64, 288},
      {"cnn   conv2 P^T dY 288x15488 * 15488x64", CblasTrans, CblasNoTrans, 288,
       64, 15488},
      {"cnn   conv2 dY W^T 15488x64 * 64x288", CblasNoTrans, CblasTrans, 15488,
       288, 64},
      {"square 1024x1024 * 1024x1024", CblasNoTrans, CblasNoTrans, 1024, 1024,
       1024},
  };
  double totalFlops = 0, totalSeconds = 0;
  for (const Shape &s : shapes) {
    std::vector<float> a(size_t(s.m) * s.k, 0.5f), b(size_t(s.k) * s.n, 0.25f),
        c(size_t(s.m) * s.n);
    double seconds = secondsPerCall(s, a, b, c);
    double flops = 2.0 * s.m * s.n * s.k;
    totalFlops += flops;
    totalSeconds += seconds;
    std::printf("  %-40s %7.1f GFLOP/s\n", s.what, flops / seconds / 1e9);
  }
  std::printf("  %-40s %7.1f GFLOP/s\n", "all, one call each",
              totalFlops / totalSeconds / 1e9);
  return 0;
}
