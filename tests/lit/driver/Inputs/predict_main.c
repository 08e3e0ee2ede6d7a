/* A C program that uses the seed model's ahead-of-time library
 * (nnc --emit-lib): reads COUNT images of an IDX file, calls
 * mnist_mlp_predict on CHUNK of them at a time, and writes the logits as
 * CSV, one row per image.
 *
 *   predict_main IMAGES.idx COUNT CHUNK OUT.csv
 */
#include "mnist_mlp.h"

#include <stdio.h>
#include <stdlib.h>

static unsigned be32(const unsigned char *p) {
  return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 |
         p[3];
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s IMAGES.idx COUNT CHUNK OUT.csv\n", argv[0]);
    return 2;
  }
  long count = atol(argv[2]), chunk = atol(argv[3]);
  FILE *in = fopen(argv[1], "rb");
  unsigned char header[16];
  if (!in || fread(header, 1, 16, in) != 16 || be32(header) != 0x803 ||
      be32(header + 8) * be32(header + 12) != MNIST_MLP_X_SIZE ||
      be32(header + 4) < (unsigned)count) {
    fprintf(stderr, "%s: not an IDX file of %ld 28x28 images\n", argv[1],
            count);
    return 1;
  }
  unsigned char *pixels = malloc((size_t)count * MNIST_MLP_X_SIZE);
  float *x = malloc(sizeof(float) * (size_t)count * MNIST_MLP_X_SIZE);
  float *logits = malloc(sizeof(float) * (size_t)count * MNIST_MLP_LOGITS_SIZE);
  if (fread(pixels, MNIST_MLP_X_SIZE, (size_t)count, in) != (size_t)count) {
    fprintf(stderr, "%s: truncated\n", argv[1]);
    return 1;
  }
  for (long i = 0; i < count * MNIST_MLP_X_SIZE; ++i)
    x[i] = pixels[i] / 255.0f;
  for (long begin = 0; begin < count; begin += chunk) {
    int n = (int)(count - begin < chunk ? count - begin : chunk);
    int status = mnist_mlp_predict(x + begin * MNIST_MLP_X_SIZE,
                                   logits + begin * MNIST_MLP_LOGITS_SIZE, n);
    if (status != 0) {
      fprintf(stderr, "mnist_mlp_predict returned %d\n", status);
      return 1;
    }
  }
  if (mnist_mlp_predict(x, logits, -1) != -1) {
    fprintf(stderr, "a negative batch must return -1\n");
    return 1;
  }
  FILE *out = fopen(argv[4], "w");
  fprintf(out, "example");
  for (int j = 0; j < MNIST_MLP_LOGITS_SIZE; ++j)
    fprintf(out, ",logits_%d", j);
  fprintf(out, "\n");
  for (long i = 0; i < count; ++i) {
    fprintf(out, "%ld", i);
    for (int j = 0; j < MNIST_MLP_LOGITS_SIZE; ++j)
      fprintf(out, ",%.9g", logits[i * MNIST_MLP_LOGITS_SIZE + j]);
    fprintf(out, "\n");
  }
  fclose(out);
  free(pixels);
  free(x);
  free(logits);
  return 0;
}
