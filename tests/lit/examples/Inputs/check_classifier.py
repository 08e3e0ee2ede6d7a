#!/usr/bin/env python3
"""Checks the classification metrics nnc reports against NumPy.

  check_classifier.py CSV SKIP CHECKPOINT METRICS_JSON

For the iris example (examples/iris.nn: standardised inputs, dense relu,
dense logits): reads the table with NumPy, takes nnc's held-out split
(docs/data.md), computes the predicted classes from nnc's checkpoint with
a forward pass of its own, and from them the confusion matrix, accuracy
and per-class and macro precision, recall and F1 by their definitions
(scikit-learn's). Fails unless nnc's --metrics JSON holds the same.
"""
import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nncdata import load_checkpoint, validation_split  # noqa: E402


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def main():
    csv, skip, checkpoint, metrics_path = sys.argv[1:5]
    table = np.loadtxt(csv, delimiter=",", skiprows=int(skip))
    features, labels = table[:, :-1], table[:, -1].astype(int)
    _, test = validation_split(len(table), 0.2)
    w = load_checkpoint(checkpoint)

    # The forward pass in f32, as nnc computes it.
    x = (features[test].astype(np.float32) - w["standardize.x.mean"]) / \
        w["standardize.x.std"]
    h = np.maximum(x @ w["dense_1.weight"] + w["dense_1.bias"], 0)
    logits = h @ w["dense_2.weight"] + w["dense_2.bias"]
    predicted, actual = logits.argmax(axis=1), labels[test]
    classes = logits.shape[1]

    confusion = np.zeros((classes, classes), dtype=int)
    for t, p in zip(actual, predicted):
        confusion[t, p] += 1
    tp = np.diag(confusion).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(tp / confusion.sum(axis=0))
        recall = np.nan_to_num(tp / confusion.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    present = (confusion.sum(axis=0) + confusion.sum(axis=1)) > 0
    accuracy = tp.sum() / confusion.sum()

    metrics = json.load(open(metrics_path))
    report = metrics["classification"]
    print("confusion matrix from NumPy:")
    print(confusion)
    if report["confusion_matrix"] != confusion.tolist():
        fail(f"nnc's confusion matrix is {report['confusion_matrix']}")
    if report["support"] != confusion.sum(axis=1).tolist():
        fail(f"nnc's support is {report['support']}")
    for name, want in [("precision", precision), ("recall", recall),
                       ("f1", f1)]:
        got = np.array(report[name])
        if not np.allclose(got, want, rtol=0, atol=1e-12):
            fail(f"nnc's per-class {name} is {got}, NumPy's {want}")
        macro = want[present].mean()
        if abs(report["macro_" + name] - macro) > 1e-12:
            fail(f"nnc's macro {name} is {report['macro_' + name]}, NumPy's "
                 f"{macro}")
        if abs(metrics["test_" + name] - macro) > 1e-12:
            fail(f"nnc's test_{name} is {metrics['test_' + name]}, NumPy's "
                 f"macro {macro}")
        print(f"{name}: per class {np.round(want, 4)}, macro {macro:.4f}")
    if abs(metrics["test_accuracy"] - accuracy) > 1e-9:
        fail(f"nnc's test_accuracy is {metrics['test_accuracy']}, NumPy's "
             f"{accuracy}")
    print(f"accuracy {accuracy:.4f} on {len(test)} held-out examples")
    print("ok")


if __name__ == "__main__":
    main()
