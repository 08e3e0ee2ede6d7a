#!/usr/bin/env python3
"""Checks nnc's linear regression on the diabetes data against NumPy.

  check_linear_regression.py DATA_DIR CHECKPOINT METRICS_JSON

Reads scikit-learn's diabetes files with NumPy, takes nnc's held-out split
(docs/data.md), standardises with the training rows' statistics and
solves least squares with numpy.linalg.lstsq. Fails unless nnc's weights
and bias agree with that solution to three significant digits, its
standardisation statistics with NumPy's, and its reported R^2, MSE and MAE
on the held-out rows with those of its own weights computed here.
"""
import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nncdata import load_checkpoint, validation_split  # noqa: E402


def main():
    data_dir, checkpoint, metrics_path = sys.argv[1:4]
    x = np.loadtxt(os.path.join(data_dir, "diabetes_data_raw.csv.gz"))
    y = np.loadtxt(os.path.join(data_dir, "diabetes_target.csv.gz"))
    train, test = validation_split(len(x), 0.2)
    mean = x[train].mean(axis=0)
    std = x[train].std(axis=0)
    weights = load_checkpoint(checkpoint)

    def agree(name, got, want, rel):
        err = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-12))
        print(f"{name}: largest relative difference {err:.2e}")
        if not err < rel:
            print(f"FAIL: {name} differs by more than {rel}: {got} vs {want}")
            sys.exit(1)

    agree("standardize.x.mean", weights["standardize.x.mean"], mean, 1e-6)
    agree("standardize.x.std", weights["standardize.x.std"], std, 1e-6)

    def design(rows):
        return np.c_[(x[rows] - mean) / std, np.ones(len(rows))]

    solution, *_ = np.linalg.lstsq(design(train), y[train], rcond=None)
    got = np.r_[weights["w"][:, 0], weights["b"]].astype(np.float64)
    agree("weights and bias against lstsq", got, solution, 1e-3)
    digits = -np.log10(np.max(np.abs(got - solution) / np.abs(solution)))
    print(f"nnc's fit agrees with least squares to {digits:.1f} digits")

    # The held-out figures nnc reported, from nnc's own weights.
    pred = design(test) @ got
    residual = y[test] - pred
    r2 = 1 - (residual ** 2).sum() / ((y[test] - y[test].mean()) ** 2).sum()
    lstsq_pred = design(test) @ solution
    lstsq_r2 = 1 - ((y[test] - lstsq_pred) ** 2).sum() / \
        ((y[test] - y[test].mean()) ** 2).sum()
    metrics = json.load(open(metrics_path))
    print(f"test R^2: nnc {metrics['test_r2']:.6f}, NumPy with nnc's "
          f"weights {r2:.6f}, least squares {lstsq_r2:.6f}")
    checks = [("test_r2", r2, 1e-5),
              ("test_loss", (residual ** 2).mean(), 1e-5),
              ("test_mean_absolute_error", np.abs(residual).mean(), 1e-5)]
    for key, want, rel in checks:
        got_value = metrics[key]
        if not abs(got_value - want) <= rel * max(abs(want), 1):
            print(f"FAIL: {key} is {got_value}, NumPy computes {want}")
            sys.exit(1)
    if metrics["test_examples"] != len(test):
        print(f"FAIL: {metrics['test_examples']} test examples, expected "
              f"{len(test)}")
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
