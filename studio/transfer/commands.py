"""The File menu's export and import entries.

``TransferCommands`` keeps one Export and one Import dialog per window (reused, so
their fields and a running job survive closing them) and refuses up front what cannot
work: a network with errors is not exported (its first problem is named), and the ONNX
entry, always visible, explains what to install when the extra is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runtime.transfer import export_format

from .export_dialog import ExportDialog, network_refusal
from .import_dialog import ImportDialog

if TYPE_CHECKING:  # the window imports this module
    from studio.main_window import MainWindow


class TransferCommands:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.export_dialog: ExportDialog | None = None
        self.import_dialog: ImportDialog | None = None

    def export(self, fmt: str | None = None) -> ExportDialog | None:
        """Open the Export dialog on ``fmt`` (python, train, weights, onnx; None: the
        last one used); None when refused (the window shows why)."""
        chosen = export_format(fmt) if fmt is not None else None
        missing = chosen.missing() if chosen is not None else None
        if chosen is not None and missing:
            self.window.show_error(f"{chosen.title} export is not installed",
                                   missing + ".")
            return None
        refusal = network_refusal(self.window.controller)
        if refusal:
            self.window.show_error("Cannot export yet", refusal)
            return None
        dialog = self.export_dialog
        if dialog is None:
            dialog = self.export_dialog = ExportDialog(self.window)
        dialog.refresh()
        if fmt is not None:
            dialog.set_format(fmt)
        dialog.open()
        return dialog

    def import_code(self) -> ImportDialog:
        """Open the Import dialog (a PyTorch module from a Python file)."""
        dialog = self.import_dialog
        if dialog is None:
            dialog = self.import_dialog = ImportDialog(self.window)
        dialog.open()
        return dialog

    def busy(self) -> bool:
        return any(d is not None and d.busy for d in (self.export_dialog,
                                                       self.import_dialog))

    def wait(self, msecs: int = 30000) -> None:
        """Let background work finish (the window is closing)."""
        for dialog in (self.export_dialog, self.import_dialog):
            if dialog is not None:
                dialog.task.wait(msecs)
                if isinstance(dialog, ImportDialog):
                    dialog.lister.wait(msecs)
