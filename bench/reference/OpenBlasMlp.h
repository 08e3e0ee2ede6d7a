//===- OpenBlasMlp.h - A dense ReLU network's training step on BLAS -------===//
//
// The hand-written reference for nnc's generated code: the same training
// step (dense layers with ReLU, softmax cross-entropy averaged over the
// batch, Keras's Adam) written the way a performance engineer would on top
// of OpenBLAS: cblas_sgemm for the matrix products, one fused loop for
// everything between them. A worker computes the gradient of its slice of
// the batch; workers' gradients are summed inside the Adam update.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_BENCH_REFERENCE_OPENBLASMLP_H
#define NNC_BENCH_REFERENCE_OPENBLASMLP_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace nnc::bench {

/// 64-byte aligned floats, zero-initialised.
class FloatBuffer {
public:
  FloatBuffer() = default;
  explicit FloatBuffer(size_t size);
  float *data() { return values.get(); }
  const float *data() const { return values.get(); }
  size_t size() const { return count; }
  float &operator[](size_t i) { return values[i]; }
  float operator[](size_t i) const { return values[i]; }

private:
  struct Free {
    void operator()(float *p) const { std::free(p); }
  };
  std::unique_ptr<float[], Free> values;
  size_t count = 0;
};

/// Layer widths and where each parameter lives in the flat parameter vector
/// (weights [in, out] row-major, then the bias; layer after layer).
struct MlpLayout {
  std::vector<int> widths; // input, hidden..., classes
  std::vector<size_t> weightOffset, biasOffset;
  size_t parameterCount = 0;

  explicit MlpLayout(std::vector<int> widths);
  int layers() const { return int(widths.size()) - 1; }
  int in(int layer) const { return widths[layer]; }
  int out(int layer) const { return widths[layer + 1]; }
};

/// What one worker owns: its slice of the batch, its activations, and its
/// gradient of the mean loss (already scaled by 1/batch).
struct Worker {
  int rows = 0;
  FloatBuffer input;
  std::vector<int32_t> labels;
  std::vector<FloatBuffer> activations; // per layer, rows x out
  std::vector<FloatBuffer> deltas;      // per layer, rows x out
  FloatBuffer gradients;                // parameterCount
  double lossSum = 0;                   // of this step's rows
  long correct = 0;                     // of this step's rows

  Worker(const MlpLayout &layout, int rows);
};

/// Forward pass of `rows` rows of `input` (may be fewer than the worker was
/// made for); leaves the logits in worker.activations.back().
void forward(const MlpLayout &layout, const float *params, const float *input,
             int rows, Worker &worker);

/// Softmax cross-entropy of the logits against the labels: adds each row's
/// loss to worker.lossSum and its hit to worker.correct. With `invBatch`
/// non-zero also writes d(mean loss)/d(logits) = (softmax - onehot) *
/// invBatch into the last delta.
void softmaxCrossEntropy(const MlpLayout &layout, const int32_t *labels,
                         int rows, float invBatch, Worker &worker);

/// Gradients of the worker's rows into worker.gradients (overwritten).
void backward(const MlpLayout &layout, const float *params, Worker &worker);

struct AdamConfig {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-7f;
};

/// Keras's Adam on parameters [begin, end) with the sum of the workers'
/// gradients; `step` counts from 1.
void adamUpdate(const AdamConfig &config, long step, float *params, float *m,
                float *v, const std::vector<const float *> &gradients,
                size_t begin, size_t end);

} // namespace nnc::bench

#endif
