"""The Probe dock: one example through the network, on the canvas and in the panel.

``attach_probe(window, controller, scene, training)`` adds the dock (View > Panels and
Training > Probe, Ctrl+Shift+E); nothing heavier than Qt is imported until it is shown.
The work itself (``runtime.probe``) runs off the GUI thread through ``ProbeService``.
"""

from .attach import attach_probe

__all__ = ["attach_probe"]
