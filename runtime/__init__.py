"""Strata's training runtime: headless, Qt-free.

Datasets, the training engine with per-layer instrumentation, diagnoses, checkpoints, and
the worker process that streams typed events to whoever listens (the studio, the CLI).
It imports ``graph`` and never Qt.
"""
