"""Strata's training runtime: headless, Qt-free.

Datasets, the training setup (``setup.SETTINGS``: every setting declared once; the
studio's form is generated from it), the training engine with per-layer
instrumentation, diagnoses, checkpoints (writing, restoring, matching), and the worker
process that streams typed events to whoever listens. What the studio and the CLI both
need lives here: ``run_record`` (a run as its events describe it, in bounded
``series``), ``evaluation`` (a checkpoint's metrics: ``strata evaluate``) and
``transfer``, the one export/import service (formats, writers, shape parsing) that
``strata export``/``import`` and the studio's dialogs call. It imports ``graph`` and
never Qt.
"""
