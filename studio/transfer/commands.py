"""The File menu's export and import entries, and opening an imported network.

``TransferCommands`` keeps one Export and one Import dialog per window (reused, so
their fields and a running job survive closing them) and refuses up front what cannot
work: a network with errors is not exported (its first problem is named), and the ONNX
entry, always visible, explains what to install when the extra is missing.
"""

from __future__ import annotations

from graph.export import onnx_available
from graph.export import unavailable_message as onnx_unavailable_message

from .export_dialog import ExportDialog, network_refusal
from .import_dialog import ImportDialog


def open_in_window(window, document) -> bool:
    """Show ``document`` in ``window`` as a new, unsaved network; False when the user
    keeps the current one (asked first if it has unsaved changes)."""
    if not window.files.maybe_save():
        return False
    controller = window.controller
    controller.set_document(document)
    # Untitled and marked modified: closing or opening another file asks to save it.
    controller.undo_stack.resetClean()
    window.view.show_document()
    return True


class TransferCommands:
    def __init__(self, window) -> None:
        self.window = window
        self.export_dialog: ExportDialog | None = None
        self.import_dialog: ImportDialog | None = None

    def export(self, fmt: str | None = None) -> ExportDialog | None:
        """Open the Export dialog on ``fmt`` (python, train, weights, onnx; None: the
        last one used); None when refused (the window shows why)."""
        if fmt == "onnx" and not onnx_available():
            self.window.show_error("ONNX export is not installed",
                                   onnx_unavailable_message() + ".")
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
