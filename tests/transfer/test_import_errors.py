"""What cannot be imported is reported precisely: which node, which operation, where."""

from __future__ import annotations

import pytest
from transfer_helpers import FIXTURES

from graph.importers import (
    ImportSourceError,
    UnmappedError,
    candidates,
    import_file,
)

UNMAPPABLE = FIXTURES / "unmappable.py"


def test_custom_operations_are_each_listed():
    with pytest.raises(UnmappedError) as caught:
        import_file(f"{UNMAPPABLE}:CustomOpNet", [(1, 8)])
    items = {item.node: item for item in caught.value.items}
    # Standardize.forward: mean(keepdim) and std (x - ..., + 1e-5 and / map, and are
    # not reported again); then nn.RReLU.
    assert set(items) == {"mean", "std", "act"}
    assert items["act"].operation == "nn.RReLU"
    assert items["act"].source == "act"
    assert "not in Strata's catalog" in items["act"].reason
    assert items["act"].location == "unmappable.py:23: x = self.act(x)"
    assert items["mean"].operation == "Tensor.mean"
    assert items["mean"].source == "norm.forward"
    assert items["mean"].location.startswith("unmappable.py:9: return (x - x.mean(")
    assert items["std"].operation == "Tensor.std"
    assert "keepdim=True" in items["mean"].reason
    message = str(caught.value)
    assert message.startswith("unmappable.py:CustomOpNet: 3 operations cannot be mapped")
    assert "nn.RReLU at 'act' (fx node 'act')" in message
    assert "Tensor.std at 'norm.forward' (fx node 'std')" in message


def test_a_module_with_weights_used_twice_becomes_layers_sharing_weights():
    result = import_file(f"{UNMAPPABLE}:SharedWeights", [(1, 8)])
    fcs = sorted((n.label, n.params["shares"]) for n in result.document.nodes.values()
                 if n.type == "Linear")
    assert fcs == [("fc", None), ("fc_2", "fc"), ("out", None)]
    assert result.max_abs_diff is not None and result.max_abs_diff < 1e-5


def test_control_flow_on_tensor_values_names_the_line():
    with pytest.raises(ImportSourceError) as caught:
        import_file(f"{UNMAPPABLE}:DataDependent", [(1, 4)])
    message = str(caught.value)
    assert "torch.fx cannot trace forward" in message
    assert "unmappable.py:43: if x.sum() > 0:" in message


def _write(tmp_path, text: str, name: str = "model.py"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_syntax_error_names_file_and_line(tmp_path):
    path = _write(tmp_path, "import torch\n\nclass Broken(torch.nn.Module)\n    pass\n")
    with pytest.raises(ImportSourceError, match=r"model.py: syntax error at line 3"):
        import_file(f"{path}:Broken", [(1, 2)])


def test_missing_package_names_the_module(tmp_path):
    path = _write(tmp_path, "import not_a_real_package_xyz\n")
    with pytest.raises(ImportSourceError,
                       match=r"model.py: an import failed \(module 'not_a_real_package_xyz'\)"):
        import_file(f"{path}:Net", [(1, 2)])


def test_unknown_name_lists_what_the_file_defines():
    with pytest.raises(ImportSourceError) as caught:
        import_file(f"{FIXTURES / 'mlp.py'}:Perceptron", [(1, 2)])
    assert "has no class or function 'Perceptron'" in str(caught.value)
    assert "MLP, SequentialMLP, make_mlp" in str(caught.value)
    assert candidates(FIXTURES / "mlp.py") == ["MLP", "SequentialMLP", "make_mlp"]


def test_target_must_name_a_class():
    with pytest.raises(ImportSourceError, match="expected FILE.py:ClassName"):
        import_file("model.py", [(1, 2)])


def test_constructor_arguments_are_asked_for(tmp_path):
    path = _write(tmp_path, "from torch import nn\n\n\nclass Net(nn.Module):\n"
                  "    def __init__(self, width):\n        super().__init__()\n"
                  "        self.fc = nn.Linear(2, width)\n\n"
                  "    def forward(self, x):\n        return self.fc(x)\n")
    with pytest.raises(ImportSourceError, match=r"Net\(\) needs arguments: width"):
        import_file(f"{path}:Net", [(1, 2)])


def test_a_factory_returning_something_else(tmp_path):
    path = _write(tmp_path, "def make():\n    return 42\n")
    with pytest.raises(ImportSourceError, match="returned a int, expected a torch.nn.Module"):
        import_file(f"{path}:make", [(1, 2)])


def test_wrong_input_shape_says_what_failed():
    with pytest.raises(ImportSourceError) as caught:
        import_file(f"{FIXTURES / 'lenet.py'}:Net", [(1, 3, 28, 28)])
    message = str(caught.value)
    assert "forward fails on inputs shaped (N, 3, 28, 28)" in message
    assert "lenet.py:" in message  # the user's line that failed


def test_batch_second_recurrent_layer_says_how_to_fix(tmp_path):
    path = _write(tmp_path, "from torch import nn\n\n\nclass Net(nn.Module):\n"
                  "    def __init__(self):\n        super().__init__()\n"
                  "        self.rnn = nn.GRU(3, 4)\n        self.fc = nn.Linear(4, 2)\n\n"
                  "    def forward(self, x):\n        out, h = self.rnn(x)\n"
                  "        return self.fc(h[-1])\n")
    with pytest.raises(UnmappedError) as caught:
        import_file(f"{path}:Net", [(5, 1, 3)])
    (item,) = caught.value.items
    assert item.source == "rnn"
    assert "batch_first=True" in item.reason


def test_slicing_and_scalar_arithmetic_become_plumbing_layers(tmp_path):
    path = _write(tmp_path, "import math\nfrom torch import nn\n\n\n"
                  "class Net(nn.Module):\n"
                  "    def __init__(self):\n        super().__init__()\n"
                  "        self.embed = nn.Embedding(10, 8)\n"
                  "        self.fc = nn.Linear(8, 2)\n\n"
                  "    def forward(self, tokens):\n"
                  "        x = self.embed(tokens) * math.sqrt(8)\n"
                  "        return self.fc(x[:, 0])\n")
    result = import_file(f"{path}:Net", [(1, 6)], "long")
    nodes = {n.type: n.params for n in result.document.nodes.values()}
    assert nodes["ScaleShift"]["scale"] == pytest.approx(8 ** 0.5)
    assert (nodes["Select"]["dim"], nodes["Select"]["index"]) == (1, 0)
    assert result.max_abs_diff is not None and result.max_abs_diff < 1e-5


def test_last_step_of_a_bidirectional_network_is_refused_with_the_fix(tmp_path):
    path = _write(tmp_path, "from torch import nn\n\n\nclass Net(nn.Module):\n"
                  "    def __init__(self):\n        super().__init__()\n"
                  "        self.rnn = nn.LSTM(3, 4, batch_first=True, bidirectional=True)\n"
                  "        self.fc = nn.Linear(8, 2)\n\n"
                  "    def forward(self, x):\n        out, _ = self.rnn(x)\n"
                  "        return self.fc(out[:, -1, :])\n")
    with pytest.raises(UnmappedError) as caught:
        import_file(f"{path}:Net", [(2, 5, 3)])
    (item,) = caught.value.items
    assert "backward direction has read one element only" in item.reason
    assert "torch.cat([h_n[-2], h_n[-1]], dim=1)" in item.reason
    assert item.location == "model.py:12: return self.fc(out[:, -1, :])"


def test_bad_input_dtype_and_shape_are_refused():
    target = f"{FIXTURES / 'mlp.py'}:make_mlp"
    with pytest.raises(ImportSourceError, match="float, long .* or auto"):
        import_file(target, [(1, 2)], "int8")
    with pytest.raises(ImportSourceError, match="the batch then one example's shape"):
        import_file(target, [(2,)])
    with pytest.raises(ImportSourceError, match="forward takes 1 argument"):
        import_file(target, [(1, 2), (1, 2)])
