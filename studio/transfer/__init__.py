"""Networks out of and into the studio: the Export and Import dialogs.

Roles: ``commands.TransferCommands`` is what the File menu calls; ``export_dialog`` and
``import_dialog`` are the two dialogs; ``jobs`` holds the work they hand to a
``tasks.BackgroundTask`` (the headless ``graph.export``, ``runtime.export_train`` and
``graph.importers`` do the actual writing and tracing); ``checkpoints`` finds the
session's training checkpoints that fit the network.

Invariants: tracing and exporting never run on the GUI thread, and the worker thread
gets a copy of the document, never the live one; every failure is a message in the
dialog, never a traceback; a failed import leaves the current document untouched; a
successful one opens as a new unsaved document. Importing this package does not import
torch (the studio starts without it).
"""

from .commands import TransferCommands, open_in_window
from .export_dialog import ExportDialog
from .import_dialog import ImportDialog
from .tasks import BackgroundTask

__all__ = ["BackgroundTask", "ExportDialog", "ImportDialog", "TransferCommands",
           "open_in_window"]
