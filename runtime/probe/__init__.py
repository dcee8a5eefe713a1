"""Look inside one example: the probe, attribution and the examples a network gets wrong.

``open_session`` gives a network with weights and its dataset; ``Prober.probe`` runs one
example and returns every canvas node's value and this example's gradient
(``ProbeResult``); ``attribute`` asks Captum why; ``ProbeSession.gallery`` orders a split
by per-example loss. ``images`` turns values into pictures for ``strata probe`` and the
studio alike. Headless: torch, numpy, Captum (optional), never Qt.
"""

from .attribution import METHODS, Attribution, AttributionError, attribute, conv_layers
from .core import NodeValue, Prober, ProbeResult
from .session import GalleryItem, ProbeError, ProbeSession, open_session

__all__ = [
    "METHODS", "Attribution", "AttributionError", "GalleryItem", "NodeValue",
    "ProbeError", "ProbeResult", "ProbeSession", "Prober", "attribute", "conv_layers",
    "open_session",
]
