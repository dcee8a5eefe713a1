"""Networks out of and into the studio: the Export and Import dialogs.

Roles: ``commands.TransferCommands`` is what the File menu calls; ``export_dialog`` and
``import_dialog`` are the two dialogs; they hand ``runtime.transfer``'s
``export_network`` and ``import_network`` (the same service ``strata export`` and
``strata import`` call) to a ``studio.background.BackgroundTask``; ``checkpoints`` finds the
session's training checkpoints that fit the network. An imported network opens through
the window's file commands (``FileCommands.open_document``).

Invariants: tracing and exporting never run on the GUI thread, and the worker thread
gets a copy of the document, never the live one; every failure is a message in the
dialog, never a traceback; a failed import leaves the current document untouched; a
successful one opens as a new unsaved document. Importing this package does not import
torch (the studio starts without it).
"""

from .commands import TransferCommands
from .export_dialog import ExportDialog
from .import_dialog import ImportDialog

__all__ = ["ExportDialog", "ImportDialog", "TransferCommands"]
