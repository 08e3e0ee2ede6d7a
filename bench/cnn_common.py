"""The convnet workload's shapes, FLOP count and weights: Keras's "Simple
MNIST convnet" (examples/mnist_cnn.nn) as nnc lays it out, and the same
weights in PyTorch's layout.

nnc's images are NHWC and its weights `conv2d_N.weight` [kh, kw, in, out];
PyTorch's are NCHW and [out, in, kh, kw]. nnc's flatten of the last pooled
map [5, 5, 64] reads h, w, c (c fastest); PyTorch's of [64, 5, 5] reads c,
h, w: the dense layer's rows are permuted to match (torch_weights).

Needs numpy only (no torch), so the harness can use it too.
"""

import numpy as np

IMAGE = (28, 28, 1)  # h, w, c
CONVS = ((32, 3), (64, 3))  # (filters, kernel size), each followed by ReLU
POOL = 2  # max pooling after each convolution, window = stride
CLASSES = 10


def feature_shapes():
    """[(h, w, c) after each convolution, after its pooling], valid
    convolutions, stride 1; pooling floors as Keras's and PyTorch's do."""
    h, w, c = IMAGE
    shapes = []
    for filters, k in CONVS:
        h, w, c = h - k + 1, w - k + 1, filters
        conv = (h, w, c)
        h, w = h // POOL, w // POOL
        shapes.append((conv, (h, w, c)))
    return shapes


def flattened():
    h, w, c = feature_shapes()[-1][1]
    return h * w * c


def parameter_shapes():
    """nnc's parameters, in its order and layout."""
    shapes = {}
    cin = IMAGE[2]
    for n, (filters, k) in enumerate(CONVS, start=1):
        shapes[f"conv2d_{n}.weight"] = (k, k, cin, filters)
        shapes[f"conv2d_{n}.bias"] = (filters,)
        cin = filters
    shapes["dense_1.weight"] = (flattened(), CLASSES)
    shapes["dense_1.bias"] = (CLASSES,)
    return shapes


def parameter_count():
    return sum(int(np.prod(s)) for s in parameter_shapes().values())


def flops_per_image():
    """Forward and backward FLOPs of one image, at 2 per multiply-add:
    for each convolution and the dense layer the forward product, the
    weight gradient's, and the input gradient's for all but the first
    layer (no gradient for the image). Bias, ReLU, pooling and softmax are
    linear in the activations and left out."""
    products = []
    cin = IMAGE[2]
    for (filters, k), (conv, _) in zip(CONVS, feature_shapes()):
        h, w, _ = conv
        products.append(2 * h * w * filters * k * k * cin)
        cin = filters
    products.append(2 * flattened() * CLASSES)
    return 2 * sum(products) + sum(products[1:])


def flops_per_step(batch):
    """flops_per_image for the batch, and Keras's Adam at ~12 FLOPs a
    parameter."""
    return batch * flops_per_image() + 12 * parameter_count()


def check_weights(tensors, path="weights"):
    """Raises SystemExit unless `tensors` holds every parameter in nnc's
    shapes."""
    for name, shape in parameter_shapes().items():
        t = tensors.get(name)
        if t is None:
            raise SystemExit(f"{path}: no F32 tensor {name}")
        if t.shape != shape:
            raise SystemExit(
                f"{path}: {name} has shape {t.shape}, not {shape} for this model"
            )


def glorot_init(seed):
    """glorot_uniform kernels and zero biases under nnc's names and layout;
    used when nnc cannot write the initial weights itself. Keras's fans of a
    kernel [kh, kw, in, out] are kh kw in and kh kw out."""
    rng = np.random.default_rng(seed)
    tensors = {}
    for name, shape in parameter_shapes().items():
        if name.endswith(".bias"):
            tensors[name] = np.zeros(shape, dtype=np.float32)
            continue
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        fan_in, fan_out = receptive * shape[-2], receptive * shape[-1]
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        tensors[name] = rng.uniform(-limit, limit, shape).astype(np.float32)
    return tensors


def torch_weights(tensors):
    """nnc's weights in PyTorch's layout, as numpy arrays: conv2d_N.weight
    [out, in, kh, kw], dense_1.weight [10, 1600] (nn.Linear's [out, in])
    with its inputs in the order of flattening an NCHW map (c, h, w);
    biases as they are."""
    check_weights(tensors)
    out = {}
    for n in range(1, len(CONVS) + 1):
        out[f"conv2d_{n}.weight"] = np.ascontiguousarray(
            tensors[f"conv2d_{n}.weight"].transpose(3, 2, 0, 1)
        )
        out[f"conv2d_{n}.bias"] = tensors[f"conv2d_{n}.bias"].copy()
    h, w, c = feature_shapes()[-1][1]
    dense = tensors["dense_1.weight"].reshape(h, w, c, CLASSES)  # nnc's row: (h, w, c)
    out["dense_1.weight"] = np.ascontiguousarray(
        dense.transpose(2, 0, 1, 3).reshape(h * w * c, CLASSES).T  # row: (c, h, w)
    )
    out["dense_1.bias"] = tensors["dense_1.bias"].copy()
    return out


def describe(batch):
    convs = ", ".join(f"conv {k}x{k}x{f} + pool {POOL}" for f, k in CONVS)
    return f"{convs}, dense {flattened()}-{CLASSES}, batch {batch}"
