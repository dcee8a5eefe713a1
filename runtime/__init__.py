"""Strata's training runtime: headless, Qt-free.

Datasets, the training engine with per-layer instrumentation, diagnoses, checkpoints, and
the worker process that streams typed events to whoever listens (the studio, the CLI),
and ``transfer``: the one export/import service (formats, writers, shape parsing) that
``strata export``/``import`` and the studio's dialogs call.
It imports ``graph`` and never Qt.
"""
