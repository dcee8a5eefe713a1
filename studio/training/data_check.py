"""The network checked against its data before Train.

As soon as a dataset is chosen (or the network changes), every mismatch the runtime can
find (``runtime.compatibility.dataset_mismatches``: input shape, dtype, class count,
task, vocabulary) is listed in Problems on the node concerned, with its fix where the
fix is obvious ("Set out_features to 10 on Linear 'fc3'"), instead of surfacing seconds
after Train is pressed.

The dataset is loaded once per choice on a background thread (reading a CSV or an image
folder can take a moment; importing torch too); the check itself runs on the GUI thread
against the loaded bundle each time the analysis changes (a few milliseconds). Nothing
runs before ``start()``: the window opens without torch.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from graph import Problem
from graph.fixes import Fix
from studio.background import BackgroundTask

if TYPE_CHECKING:
    from studio.document.controller import DocumentController

KIND = "dataset"
# The check following each controller (the node menu and inspector ask it for fixes).
CHECKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class DataCheck(QObject):
    changed = Signal()  # problems (and their fixes) changed

    def __init__(self, controller: DocumentController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.started = False
        self.problems: list[Problem] = []
        self.fixes: dict[Problem, Fix] = {}
        self.bundle = None
        self._key = None  # the dataset choice the bundle (or the load under way) is of
        self._loader = BackgroundTask(self)  # the dataset of the latest choice
        self._loader.succeeded.connect(lambda loaded: self._on_loaded(*loaded))
        CHECKS[controller] = self
        controller.analysis_changed.connect(self._on_analysis)
        controller.document_replaced.connect(self._on_replaced)

    def start(self) -> None:
        """The window is on screen: torch may load now."""
        self.started = True
        self._on_analysis(self.controller.analysis)

    # ------------------------------------------------------------------ loading
    def _choice(self):
        training = self.controller.document.training or {}
        spec = training.get("dataset")
        if isinstance(spec, str):
            spec = {"name": spec}
        if not isinstance(spec, dict) or not spec.get("name"):
            return None
        return (repr(sorted(spec.items())), training.get("seed", 0),
                training.get("val_fraction", 0.2), training.get("test_fraction", 0.1))

    def _load(self, key) -> None:
        self._key = key
        doc = self.controller.document
        path = self.controller.path
        data = doc.to_dict()
        self._loader.start(lambda: (key, _load_bundle(data, path)),
                           what="Loading the dataset", latest=True)

    def _on_loaded(self, key, bundle) -> None:
        if key != self._key:
            return  # an older choice
        self.bundle = bundle
        self._check()

    # ------------------------------------------------------------------ checking
    def _on_replaced(self) -> None:
        self.bundle, self._key = None, None
        self._set([], {})

    def _on_analysis(self, _analysis) -> None:
        if not self.started:
            return
        key = self._choice()
        if key is None:
            self.bundle, self._key = None, None
            self._set([], {})
            return
        if key != self._key:
            self.bundle = None
            self._load(key)
            return
        self._check()

    def _check(self) -> None:
        analysis = self.controller.analysis
        if self.bundle is None or analysis is None \
                or analysis.doc is not self.controller.document:
            self._set([], {})
            return
        from runtime.compatibility import dataset_mismatches

        try:
            found = dataset_mismatches(analysis, self.bundle)
        except Exception:  # noqa: BLE001 - a half-built network: Train will explain
            found = []
        if any(p.is_error for p in analysis.problems):
            # The network's own errors first, but not its Inputs' mismatches: those are
            # often the errors' cause (a CNN started from a blank canvas has an Input
            # shaped [2], and its Conv2d an error, until the Input takes the digits'
            # [1, 8, 8]; the fix was hidden behind the error it would fix).
            doc = analysis.doc
            found = [m for m in found if m.node_ids and all(
                i in doc.nodes and doc.nodes[i].type == "Input" for i in m.node_ids)]
        problems, fixes = [], {}
        for m in found:
            problem = Problem("error", tuple(m.node_ids), m.message, "", KIND)
            problems.append(problem)
            if m.edits:
                fixes[problem] = Fix(m.fix_title, tuple(m.edits))
        self._set(problems, fixes)

    def _set(self, problems: list[Problem], fixes: dict) -> None:
        if problems == self.problems and fixes == self.fixes:
            return
        self.problems, self.fixes = problems, fixes
        self.changed.emit()

    def fixes_for_node(self, node_id: str) -> list[Fix]:
        return [fix for problem, fix in self.fixes.items()
                if problem.node_ids[:1] == (node_id,)]


def _load_bundle(data: dict, path):
    """The dataset of the document ``data`` (runs in the background), or None when it
    cannot be loaded: the setup form and Train explain such failures."""
    try:
        import graph
        from runtime.datasets import load_dataset
        from runtime.setup import TrainingSetup

        doc = graph.fileformat.document_from_dict(data)
        setup = TrainingSetup.from_document(doc)
        return load_dataset(setup.dataset, seed=setup.seed,
                            val_fraction=setup.val_fraction,
                            test_fraction=setup.test_fraction,
                            base_dir=path.parent if path else None)
    except Exception:  # noqa: BLE001 - the setup form and Train explain failures
        return None
