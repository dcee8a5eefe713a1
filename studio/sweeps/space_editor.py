"""Which settings and layer parameters a sweep searches, edited as a small table.

One row per searched entry: what (a training setting, or a layer's parameter by the
layer's name), how (a range, log-scaled or not, whole numbers, or a list of choices)
and the bounds. "Search…" offers every number the network has: the training settings,
each layer's numeric parameters, and each block's repeat count and exposed numbers, also
of blocks nested in blocks ("layer1 > inner: repeat"), with a sensible first range
around today's value.
Every edit is reported as the new ``doc.sweep`` (``edited``), which the window checks
with ``runtime.sweeps.SweepSpec`` and stores as one undo step.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

KINDS = (("Range", "float"), ("Log range", "log"), ("Whole numbers", "int"),
         ("Choices", "choice"))
TARGET_ROLE = Qt.ItemDataRole.UserRole + 1


def candidates(doc) -> list[tuple[str, str, str, object]]:
    """(label, target, kind, today's value) of every number a sweep can search, the
    instances nested in blocks included (``runtime.sweeps.targets``)."""
    from runtime.sweeps.targets import candidates as searchable

    return searchable(doc)


def first_range(target: str, kind: str, value) -> dict:
    """A starting entry around today's value (``runtime.sweeps.targets``)."""
    from runtime.sweeps.targets import first_range as around

    return around(target, kind, value)


class SpaceEditor(QWidget):
    edited = Signal(list)  # the new list of searched entries (doc.sweep["params"])

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[dict] = []
        self.labels: dict[str, str] = {}
        self._filling = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("sweep_space")
        self.table.setHorizontalHeaderLabels(["Searched", "How", "From", "To / choices"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._item_changed)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        self.add = QComboBox(self)
        self.add.setObjectName("sweep_add")
        self.add.activated.connect(self._add)
        self.remove = QPushButton("Remove", self)
        self.remove.setObjectName("sweep_remove")
        self.remove.clicked.connect(self._remove)
        row.addWidget(self.add, 1)
        row.addWidget(self.remove)
        layout.addLayout(row)
        self.options: list[tuple[str, str, str, object]] = []

    def set_entries(self, entries: list[dict], options) -> None:
        """Show ``entries`` (plain dicts, as ``doc.sweep["params"]``) and offer
        ``options`` (``candidates(doc)``) to add."""
        self.entries = [dict(e) for e in entries]
        self.options = list(options)
        self.labels = {target: label for label, target, _k, _v in self.options}
        self.add.blockSignals(True)
        self.add.clear()
        self.add.addItem("Search\u2026", None)
        taken = {e.get("target") for e in self.entries}
        for label, target, _kind, _value in self.options:
            if target not in taken:
                self.add.addItem(label, target)
        self.add.blockSignals(False)
        self._fill()

    def _fill(self) -> None:
        self._filling = True
        # The rows' "How" boxes go with them: a replaced cell widget stayed on screen
        # over the first row (seen under Xvfb at 1920x1080).
        for i in range(self.table.rowCount()):
            old = self.table.cellWidget(i, 1)
            if old is not None:
                self.table.removeCellWidget(i, 1)
                old.hide()
                old.deleteLater()
        self.table.setRowCount(len(self.entries))
        for i, entry in enumerate(self.entries):
            target = entry.get("target", "")
            name = QTableWidgetItem(self.labels.get(target, target))
            name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
            name.setData(TARGET_ROLE, target)
            self.table.setItem(i, 0, name)
            how = QComboBox()
            for text, kind in KINDS:
                how.addItem(text, kind)
            how.setCurrentIndex(max(0, how.findData(entry.get("kind", "float"))))
            how.currentIndexChanged.connect(lambda _i, row=i, box=how: self._kind(row, box))
            self.table.setCellWidget(i, 1, how)
            if entry.get("kind") == "choice":
                low = QTableWidgetItem("")
                low.setFlags(low.flags() & ~Qt.ItemFlag.ItemIsEditable)
                high = QTableWidgetItem(", ".join(str(c) for c in entry.get("choices", [])))
            else:
                low = QTableWidgetItem(_text(entry.get("low")))
                high = QTableWidgetItem(_text(entry.get("high")))
            self.table.setItem(i, 2, low)
            self.table.setItem(i, 3, high)
        self._filling = False

    # ---------------------------------------------------------------- edits
    def _add(self, index: int) -> None:
        target = self.add.itemData(index)
        if target is None:
            return
        _label, _t, kind, value = next(o for o in self.options if o[1] == target)
        self.edited.emit([*self.entries, first_range(target, kind, value)])

    def _remove(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.entries):
            self.edited.emit(self.entries[:row] + self.entries[row + 1:])

    def _kind(self, row: int, box: QComboBox) -> None:
        entry = dict(self.entries[row])
        kind = box.currentData()
        if kind == "choice":
            values = [v for v in (entry.get("low"), entry.get("high")) if v is not None]
            entry = {"target": entry["target"], "kind": "choice",
                     "choices": values or list(entry.get("choices", []))}
        elif entry.get("kind") == "choice":
            choices = entry.get("choices") or [0, 1]
            entry = {"target": entry["target"], "kind": kind, "low": min(choices),
                     "high": max(choices)}
        else:
            entry["kind"] = kind
            if kind == "int":
                entry["low"] = round(entry.get("low", 0))
                entry["high"] = round(entry.get("high", 1))
        self.edited.emit(self._with(row, entry))

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() < 2:
            return
        row = item.row()
        entry = dict(self.entries[row])
        text = item.text().strip()
        try:
            if entry.get("kind") == "choice":
                entry["choices"] = [_number(t) for t in text.split(",") if t.strip()]
            else:
                entry["low" if item.column() == 2 else "high"] = _number(text)
        except ValueError:
            self._fill()  # not a number: show the entry as it was
            return
        self.edited.emit(self._with(row, entry))

    def _with(self, row: int, entry: dict) -> list[dict]:
        return [*self.entries[:row], entry, *self.entries[row + 1:]]


def _number(text: str):
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
