#!/usr/bin/env python3
"""Checks an ONNX model with ONNX's own checker and prints what it holds.

    check-onnx.py MODEL.onnx

onnx.checker.check_model with full_check (the model's structure, every
node against its operator's schema, and strict shape inference), then one
line each for the opset, the inputs, the outputs, the initializers and
the nodes, for the tests to FileCheck. Needs the onnx module (Debian's
python3-onnx, for /usr/bin/python3).
"""
import sys

import onnx


def dims(value):
    shape = value.type.tensor_type.shape
    return "[" + ",".join(d.dim_param or str(d.dim_value) for d in shape.dim) + "]"


def main():
    model = onnx.load(sys.argv[1])
    onnx.checker.check_model(model, full_check=True)
    print(f"checker: ok (onnx {onnx.__version__})")
    print(f"ir_version {model.ir_version}, opset "
          + ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
          + f", producer {model.producer_name}")
    graph = model.graph
    type_name = onnx.TensorProto.DataType.Name
    for v in graph.input:
        print(f"input {v.name}: {type_name(v.type.tensor_type.elem_type).lower()}{dims(v)}")
    for v in graph.output:
        print(f"output {v.name}: {type_name(v.type.tensor_type.elem_type).lower()}{dims(v)}")
    for t in graph.initializer:
        print(f"initializer {t.name}: {type_name(t.data_type).lower()}{list(t.dims)}")
    print("nodes: " + " ".join(n.op_type for n in graph.node))


if __name__ == "__main__":
    main()
