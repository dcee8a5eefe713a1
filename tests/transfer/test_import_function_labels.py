"""An activation called as a function (``torch.relu``) has no attribute to be named
after: the importer names it by the variable its line assigns, when that line names
the value (``features = F.relu(...)``, not the running ``x = F.relu(x)``)."""

from __future__ import annotations

import textwrap

from transfer_helpers import EXAMPLES, import_spec

import graph
from graph.importers import import_file
from runtime.transfer.python import write_python

SOURCE = '''
import torch
from torch import nn
from torch.nn import functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 8)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        features = F.relu(self.fc1(x))  # the value has a name
        x = torch.tanh(self.fc2(features))
        x = torch.cat([x, features], 1)
        gated = torch.sigmoid(x) * x  # the sigmoid is not the whole right-hand side
        return self.head(gated)
'''


def test_a_function_activation_is_named_by_the_variable_that_holds_it(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent(SOURCE))
    doc = import_file(f"{path}:Net", [(1, 4)]).document
    labels = {n.type: n.label for n in doc.nodes.values()
              if n.type in ("ReLU", "Tanh", "Sigmoid")}
    assert labels == {"ReLU": "features", "Tanh": "tanh", "Sigmoid": "sigmoid"}


def test_strata_export_keeps_the_name_of_an_activation_used_twice(tmp_path):
    doc = graph.load(next(p for p in EXAMPLES if p.stem == "residual_cnn"))
    path = write_python(doc, tmp_path / "residual.py")
    shapes, dtypes, tasks = import_spec(doc)
    back = import_file(f"{path}:{graph.generate_code(doc).class_name}", shapes, dtypes,
                       tasks=tasks).document
    # `stem_relu = torch.relu(x)`: it feeds the block and its shortcut.
    assert "stem_relu" in {n.label for n in back.nodes.values() if n.type == "ReLU"}
