//===- OpenBlasMlp.cpp - A dense ReLU network's training step on BLAS -----===//
//
// Per layer l with input A (rows x in), weights W (in x out), bias b:
//   forward   Z = A W (sgemm), then H = relu(Z + b) in one loop
//   backward  dW = A^T dZ, db = column sums of dZ,
//             dA = dZ W^T masked by the previous layer's ReLU
// The first layer's input gradient is never needed and never computed.
//
//===----------------------------------------------------------------------===//
#include "bench/reference/OpenBlasMlp.h"

#include "llvm/Support/ErrorHandling.h"

#include <cblas.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

namespace nnc::bench {

FloatBuffer::FloatBuffer(size_t size) : count(size) {
  size_t bytes = (size * sizeof(float) + 63) / 64 * 64;
  values.reset(
      static_cast<float *>(std::aligned_alloc(64, bytes ? bytes : 64)));
  if (!values)
    llvm::report_bad_alloc_error("FloatBuffer: out of memory");
  std::memset(values.get(), 0, bytes);
}

MlpLayout::MlpLayout(std::vector<int> widthsIn) : widths(std::move(widthsIn)) {
  // Each tensor starts on a 16-float boundary so the update's vector loops
  // and the sgemm panels start aligned.
  auto align = [](size_t n) { return (n + 15) / 16 * 16; };
  for (int l = 0; l < layers(); ++l) {
    weightOffset.push_back(parameterCount);
    parameterCount = align(parameterCount + size_t(in(l)) * out(l));
    biasOffset.push_back(parameterCount);
    parameterCount = align(parameterCount + size_t(out(l)));
  }
}

Worker::Worker(const MlpLayout &layout, int rows)
    : rows(rows), input(size_t(rows) * layout.widths[0]), labels(rows),
      gradients(layout.parameterCount) {
  for (int l = 0; l < layout.layers(); ++l) {
    activations.emplace_back(size_t(rows) * layout.out(l));
    deltas.emplace_back(size_t(rows) * layout.out(l));
  }
}

void forward(const MlpLayout &layout, const float *params, const float *input,
             int rows, Worker &worker) {
  assert(rows <= worker.rows && "more rows than the worker holds");
  const float *a = input;
  for (int l = 0; l < layout.layers(); ++l) {
    int in = layout.in(l), out = layout.out(l);
    float *z = worker.activations[l].data();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, out, in, 1.0f,
                a, in, params + layout.weightOffset[l], out, 0.0f, z, out);
    const float *bias = params + layout.biasOffset[l];
    bool relu = l + 1 < layout.layers();
    for (int r = 0; r < rows; ++r) {
      float *row = z + size_t(r) * out;
      if (relu)
        for (int j = 0; j < out; ++j)
          row[j] = std::max(row[j] + bias[j], 0.0f);
      else
        for (int j = 0; j < out; ++j)
          row[j] += bias[j];
    }
    a = z;
  }
}

void softmaxCrossEntropy(const MlpLayout &layout, const int32_t *labels,
                         int rows, float invBatch, Worker &worker) {
  int classes = layout.widths.back();
  const float *logits = worker.activations.back().data();
  float *delta = worker.deltas.back().data();
  for (int r = 0; r < rows; ++r) {
    const float *z = logits + size_t(r) * classes;
    int argmax = 0;
    for (int j = 1; j < classes; ++j)
      if (z[j] > z[argmax])
        argmax = j;
    float max = z[argmax];
    float sum = 0;
    for (int j = 0; j < classes; ++j)
      sum += std::exp(z[j] - max);
    int label = labels[r];
    worker.lossSum += double(std::log(sum) - (z[label] - max));
    worker.correct += argmax == label;
    if (invBatch == 0)
      continue;
    float *d = delta + size_t(r) * classes;
    float scale = invBatch / sum;
    for (int j = 0; j < classes; ++j)
      d[j] = std::exp(z[j] - max) * scale;
    d[label] -= invBatch;
  }
}

void backward(const MlpLayout &layout, const float *params, Worker &worker) {
  int rows = worker.rows;
  float *grads = worker.gradients.data();
  for (int l = layout.layers() - 1; l >= 0; --l) {
    int in = layout.in(l), out = layout.out(l);
    const float *a = l ? worker.activations[l - 1].data() : worker.input.data();
    const float *dz = worker.deltas[l].data();
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, rows, 1.0f, a,
                in, dz, out, 0.0f, grads + layout.weightOffset[l], out);
    float *dbias = grads + layout.biasOffset[l];
    std::memcpy(dbias, dz, sizeof(float) * out);
    for (int r = 1; r < rows; ++r)
      for (int j = 0; j < out; ++j)
        dbias[j] += dz[size_t(r) * out + j];
    if (l == 0)
      break;
    float *da = worker.deltas[l - 1].data();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, in, out, 1.0f,
                dz, out, params + layout.weightOffset[l], out, 0.0f, da, in);
    // The previous layer's output is relu(.): its gradient passes where the
    // output is positive.
    const float *h = worker.activations[l - 1].data();
    for (size_t i = 0, n = size_t(rows) * in; i < n; ++i)
      da[i] = h[i] > 0.0f ? da[i] : 0.0f;
  }
}

namespace {

template <int Workers>
void adamLoop(float alpha, const AdamConfig &c, float *params, float *m,
              float *v, const float *const *g, size_t begin, size_t end) {
  const float b1 = c.beta1, b2 = c.beta2, eps = c.epsilon;
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  const float *g0 = g[0];
  const float *g1 = Workers > 1 ? g[1] : nullptr;
#pragma GCC ivdep
  for (size_t i = begin; i < end; ++i) {
    float grad = g0[i];
    if constexpr (Workers > 1)
      grad += g1[i];
    float mi = b1 * m[i] + c1 * grad;
    float vi = b2 * v[i] + c2 * grad * grad;
    m[i] = mi;
    v[i] = vi;
    params[i] -= alpha * mi / (std::sqrt(vi) + eps);
  }
}

} // namespace

void adamUpdate(const AdamConfig &config, long step, float *params, float *m,
                float *v, const std::vector<const float *> &gradients,
                size_t begin, size_t end) {
  // Keras: alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), in float like
  // the rest of the update.
  double t = double(step);
  float alpha = float(config.lr * std::sqrt(1.0 - std::pow(config.beta2, t)) /
                      (1.0 - std::pow(config.beta1, t)));
  if (gradients.size() == 1) {
    adamLoop<1>(alpha, config, params, m, v, gradients.data(), begin, end);
    return;
  }
  if (gradients.size() == 2) {
    adamLoop<2>(alpha, config, params, m, v, gradients.data(), begin, end);
    return;
  }
  // More workers than the machine the benchmark was written for: sum first.
  std::vector<float> sum(end);
  for (const float *g : gradients)
    for (size_t i = begin; i < end; ++i)
      sum[i] += g[i];
  const float *summed = sum.data();
  adamLoop<1>(alpha, config, params, m, v, &summed, begin, end);
}

} // namespace nnc::bench
