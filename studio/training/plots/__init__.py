"""Live training plots (pyqtgraph), one small module per kind of plot.

Every plot is built once, shows one ``RunRecord`` (``set_run``) and redraws from it in
``refresh(changed)``, skipping work when the categories that changed are not its own.
Plots hold no training data of their own beyond what is on screen; the record is the
single source. Plots never talk to the worker or the document: clicks on a layer are
reported as a ``layer_clicked(node_id)`` signal for the dashboard to turn into a
selection.
"""

from .activations import ActivationsPlot
from .boundary import BoundaryPlot
from .confusion import ConfusionPlot
from .curves import CurvesPlot
from .feature_maps import FeatureMapsPlot
from .layer_heatmap import LayerHeatmap

__all__ = ["ActivationsPlot", "BoundaryPlot", "ConfusionPlot", "CurvesPlot",
           "FeatureMapsPlot", "LayerHeatmap"]
