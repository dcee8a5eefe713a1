"""Datasets for training: generated, real (scikit-learn's digits) and the user's files.

Every dataset kind is one ``DatasetSpec`` in the registry (its options are
``ParamSpec``s, like layer parameters), and every kind loads into the same
``DatasetBundle``: seeded, disjoint train/validation/test splits of tensors plus what a
network must match (input shapes and dtypes, task, classes, target shape)::

    from runtime.datasets import load_dataset
    bundle = load_dataset({"name": "spirals", "noise": 0.1}, seed=0)
    x, y = bundle.tensors("train")

Invariants: same spec and seed, same data and same split; the test split is never used
for training or validation; bad options and bad files raise ``DatasetError`` naming the
option, file, row or folder, never a traceback.
"""

from __future__ import annotations

import importlib

from .bundle import SPLITS, DatasetBundle, TensorSplit
from .registry import (
    DatasetError,
    DatasetInfo,
    DatasetSpec,
    MissingDependency,
    check_spec,
    dataset_names,
    describe,
    load_dataset,
)

# Each module registers its datasets when imported; this order is the order in which
# the training panel lists them within a category.
for _module in ("points", "images", "sequences", "files_table", "files_images",
                "files_formats", "files_arrow"):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = [
    "SPLITS", "DatasetBundle", "DatasetError", "DatasetInfo", "DatasetSpec",
    "MissingDependency", "TensorSplit", "check_spec", "dataset_names", "describe",
    "load_dataset",
]
