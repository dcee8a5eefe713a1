"""Strata Studio: the Qt application (PySide6 + pyqtgraph).

The only package that imports Qt. It renders and edits a ``graph.Document`` through undo
commands and listens to ``runtime`` events. It holds no logic the CLI would need: rules
(wiring, fixes, which Output trains), settings, evaluation, run records and export all
live in ``graph`` or ``runtime`` and the studio asks them. Importing ``studio`` itself
stays cheap: Qt and torch load only when the window is built.

Seams (each a typed call an IDE follows):
- Edits: a view reports intent to ``document.controller.DocumentController`` (e.g.
  ``set_param``, ``connect`` on a wire drop); it pushes one undo command
  (``document.commands``) that calls a ``graph.Document`` method; the document emits a
  typed event (``graph.events``: ``ParamsChanged``, ``EdgeAdded``...); the controller
  relays it on the Qt signal of that kind (``controller.params_changed``...), to which
  the scene, the inspector and the panels connect.
- Features hosted by the window (training, export and import) get a typed
  ``context.StudioContext`` (controller, canvas, Problems panel, ``add_panel``, the
  training docks once attached) instead of attributes set on the window or probed
  with ``getattr``. A Train press goes ``TrainingDocks.workbench().train()`` ->
  ``training.runner.TrainingRunner.start`` -> ``runtime.worker.TrainingSession``.
- Work off the GUI thread goes through ``background.BackgroundTask`` only (start,
  progress, latest-wins, cancel, one failure path); no raw threads in widgets.
"""
