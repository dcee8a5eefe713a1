"""The README's fine-tuning example runs as written and does what it says."""

from __future__ import annotations

import re
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_fine_tuning_example_runs(tmp_path, monkeypatch, capsys):
    text = (ROOT / "README.md").read_text("utf-8")
    code = re.search(r"<!-- finetune-example -->\n```python\n(.*?)```", text, re.DOTALL)[1]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md (fine-tuning example)", "exec"), {})  # noqa: S102
    accuracies = [float(line) for line in capsys.readouterr().out.split()]
    assert len(accuracies) == 3 and all(0.0 <= a <= 1.0 for a in accuracies)
    shapes = torch.load("runs/shapes/last.pt", weights_only=True)["model"]
    frozen = torch.load("runs/frozen/last.pt", weights_only=True)["model"]
    tuned = torch.load("runs/tuned/last.pt", weights_only=True)["model"]
    # The backbone came from the shapes network and did not move while frozen...
    assert torch.equal(frozen["conv1.weight"], shapes["conv1.weight"])
    assert frozen["head.weight"].shape == (2, 16 * 7 * 7)
    # ...and trained once unfrozen.
    assert not torch.equal(tuned["conv1.weight"], frozen["conv1.weight"])
