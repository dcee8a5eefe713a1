"""The story examples are what their generator writes, carry a flat training setup and
check clean. (Whether each tells its story is measured by ``make_story_examples.py
--measure`` and, for the vanishing-gradient pair, tested in test_training_diagnoses.)"""

from __future__ import annotations

import runpy

import pytest
from strata_paths import EXAMPLES

import graph
from runtime.setup import TrainingSetup

HERE = EXAMPLES
STORIES = runpy.run_path(str(HERE / "make_story_examples.py"))["STORIES"]


@pytest.mark.parametrize("name", sorted(STORIES))
def test_story_example_is_generated_flat_and_valid(name, tmp_path):
    path = graph.save(STORIES[name](), tmp_path / f"{name}.strata")
    assert path.read_text() == (HERE / f"{name}.strata").read_text(), (
        f"run make_story_examples.py ({name}.strata is stale)")
    doc = graph.load(path)
    assert graph.validate(doc) == []
    assert doc.training == TrainingSetup.from_document(doc).to_dict()
