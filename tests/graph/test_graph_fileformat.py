"""The ``.strata`` file format: round trips, atomic saves, and every kind of bad file
failing with one DocumentError that names the JSON path."""

from __future__ import annotations

import json
import os

import pytest
from graph_helpers import EXAMPLES, chain_doc

import graph
from graph import DocumentError, fileformat


@pytest.fixture
def good() -> dict:
    return json.loads(fileformat.dumps(chain_doc(("Linear", {"out_features": 3}, "fc"),
                                                 "ReLU", name="Good")))


def load_dict(data) -> graph.Document:
    return graph.loads(json.dumps(data))


# ---------------------------------------------------------------------- round trips
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_round_trip_byte_for_byte(path, tmp_path):
    text = path.read_text(encoding="utf-8")
    doc = graph.load(path)
    assert fileformat.dumps(doc) == text  # the examples are saved by this very code
    copy = graph.load(graph.save(doc, tmp_path / "copy.strata"))
    assert copy == doc
    assert (tmp_path / "copy.strata").read_text(encoding="utf-8") == text


def test_round_trip_keeps_everything_a_user_set(tmp_path):
    doc = chain_doc(("Conv2d", {"out_channels": 4, "kernel_size": [3, 5]}, "conv"),
                    "Flatten", shape=(1, 8, 8), name="Ünïcode ✓ net")
    doc.description = "line one\n\nline two"
    doc.set_training("optimizer", {"name": "adam", "lr": 0.001})
    doc.move_node(list(doc.nodes)[1], (12.25, -40.5))
    copy = graph.load(graph.save(doc, tmp_path / "net.strata"))
    assert copy.to_dict() == doc.to_dict()
    assert list(copy.nodes) == list(doc.nodes)  # order decides the generated code
    assert copy.nodes[list(doc.nodes)[1]].position == (12.25, -40.5)
    assert json.loads((tmp_path / "net.strata").read_text("utf-8"))["version"] == \
        fileformat.VERSION


def test_loading_accepts_a_byte_order_mark(good):
    doc = graph.loads(b"\xef\xbb\xbf" + json.dumps(good).encode())
    assert doc.name == "Good"


def test_legacy_type_names_load_as_the_current_type(good):
    good["nodes"].append({"id": "att", "type": "MultiheadSelfAttention"})
    assert load_dict(good).nodes["att"].type == "SelfAttention"


def test_missing_parameters_take_defaults(good):
    del good["nodes"][1]["params"]["bias"]
    assert load_dict(good).nodes[good["nodes"][1]["id"]].params["bias"] is True


def test_migrations_run_in_order(good, monkeypatch):
    current = fileformat.VERSION

    def upgrade(data):
        data = dict(data)
        data["name"] = data["name"] + " (migrated)"
        return data

    monkeypatch.setattr(fileformat, "VERSION", current + 1)
    monkeypatch.setitem(fileformat.MIGRATIONS, current, upgrade)
    assert load_dict(good).name == "Good (migrated)"


def test_every_older_version_has_a_migration():
    assert sorted(fileformat.MIGRATIONS) == list(range(1, fileformat.VERSION))


OLD_LAYOUT = {"dataset": {"name": "spirals"}, "epochs": 5,
              "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.8},
              "schedule": {"name": "step", "step_size": 3, "gamma": 0.5}}


def test_a_version_1_file_with_the_nested_setup_loads_and_saves_flat(good, tmp_path):
    good["version"] = 1
    good["training"] = OLD_LAYOUT
    path = tmp_path / "old.strata"
    path.write_text(json.dumps(good), "utf-8")
    doc = graph.load(path)
    assert doc.training == {"dataset": {"name": "spirals"}, "epochs": 5,
                            "optimizer": "sgd", "lr": 0.05, "momentum": 0.8,
                            "schedule": "step", "step_size": 3, "gamma": 0.5}
    graph.save(doc, path)
    saved = json.loads(path.read_text("utf-8"))
    assert saved["version"] == fileformat.VERSION
    assert saved["training"] == doc.training
    assert graph.load(path).training == doc.training  # the new layout reads as it is


def test_a_nested_setup_without_a_name_takes_the_defaults(good):
    good["version"] = 1
    good["training"] = {"optimizer": {"lr": 0.5}, "schedule": {}}
    assert load_dict(good).training == {"optimizer": "adam", "lr": 0.5, "schedule": "none"}


def test_a_setting_given_nested_and_flat_is_refused_with_its_path(good):
    good["version"] = 1
    good["training"] = {"optimizer": {"name": "adam", "lr": 0.1}, "lr": 0.2}
    with pytest.raises(DocumentError) as caught:
        load_dict(good)
    assert caught.value.where == "$.training.optimizer.lr"
    assert "`lr` is given twice" in caught.value.message


def test_version_2_files_are_not_migrated_again(good):
    good["version"] = 2
    good["training"] = {"optimizer": {"name": "sgd"}}  # not version 2's layout
    assert load_dict(good).training == {"optimizer": {"name": "sgd"}}


# ---------------------------------------------------------------------- atomic save
def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "net.strata"
    graph.save(chain_doc("ReLU", name="Old"), path)
    old = path.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        graph.save(chain_doc("Linear", name="New"), path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["net.strata"]  # no temporary file left behind


def test_save_creates_missing_folders(tmp_path):
    path = graph.save(chain_doc("ReLU"), tmp_path / "a" / "b" / "net.strata")
    assert graph.load(path).name == "Test Net"


# ---------------------------------------------------------------------- bad files
def _error(text: str | bytes) -> DocumentError:
    with pytest.raises(DocumentError) as e:
        graph.loads(text)
    return e.value


def test_truncated_file(good):
    text = json.dumps(good, indent=2)
    error = _error(text[: len(text) // 2])
    assert "not valid JSON" in error.message and "truncated" in error.message


def test_not_json_and_not_text():
    assert "not valid JSON" in _error("hello world").message
    assert "not a text file" in _error(b"\xff\xfe\x00garbage").message
    assert _error("   ").message == "the file is empty"


def test_not_a_strata_file():
    error = _error('{"nodes": []}')
    assert (error.where, error.message) == ("$.format",
                                            ('not a Strata network (missing "format": '
                                            '"strata")'))
    assert _error("[1, 2]").message == "expected an object, found list"


@pytest.mark.parametrize("version", ["1", 0, -3, True, 1.0, None])
def test_wrong_version(good, version):
    good["version"] = version
    error = _error(json.dumps(good))
    assert error.where == "$.version" and "positive integer" in error.message


def test_newer_version(good):
    good["version"] = 7
    error = _error(json.dumps(good))
    assert error.where == "$.version"
    assert "newer Strata (format version 7)" in error.message
    assert "please update Strata" in error.message


@pytest.mark.parametrize(("mutate", "where", "message"), [
    (lambda d: d.update(nodes={}), "$.nodes", "expected a list, found dict"),
    (lambda d: d.update(name=5), "$.name", "expected text, found int"),
    (lambda d: d.update(edges="x"), "$.edges", "expected a list, found str"),
    (lambda d: d.update(training=[]), "$.training", "expected an object, found list"),
    (lambda d: d["nodes"].__setitem__(1, "fc"), "$.nodes[1]", "expected an object"),
    (lambda d: d["nodes"][1].update(id=3), "$.nodes[1].id", "expected text, found int"),
    (lambda d: d["nodes"][1].update(id=""), "$.nodes[1].id", "1 to 200 characters"),
    (lambda d: d["nodes"][1].pop("type"), "$.nodes[1].type", "expected text, found nothing"),
    (lambda d: d["nodes"][1].update(label=None), "$.nodes[1].label", "found nothing"),
    (lambda d: d["nodes"][1].update(params=[]), "$.nodes[1].params", "expected an object"),
    (lambda d: d["nodes"][1].update(position=[1]), "$.nodes[1].position", "two finite"),
    (lambda d: d["nodes"][1].update(position=[1, "2"]), "$.nodes[1].position", "two finite"),
    (lambda d: d["nodes"][1].update(position=None), "$.nodes[1].position", "[x, y]"),
    (lambda d: d["nodes"][2].update(id=d["nodes"][1]["id"]), "$.nodes[2].id", "used twice"),
    (lambda d: d["edges"][0].update(source=None), "$.edges[0].source", "found nothing"),
    (lambda d: d["edges"].append(dict(d["edges"][0])), "$.edges[3]", "appears twice"),
])
def test_wrong_types_and_structure(good, mutate, where, message):
    mutate(good)
    error = _error(json.dumps(good))
    assert error.where == where
    assert message in error.message


def test_unknown_layer_type(good):
    good["nodes"][1]["type"] = "Dense"
    error = _error(json.dumps(good))
    assert (error.where, error.message) == ("$.nodes[1].type", "unknown layer type 'Dense'")


def test_unknown_parameter(good):
    good["nodes"][1]["params"]["units"] = 3
    error = _error(json.dumps(good))
    assert error.where == "$.nodes[1].params.units"
    assert error.message == ("Linear has no parameter 'units' (it has: bias, bias_init, "
                             "init, nonlinearity, out_features, shares)")


def test_dangling_wire(good):
    good["edges"][1]["target"] = "ghost"
    error = _error(json.dumps(good))
    assert (error.where, error.message) == ("$.edges[1].target",
                                            "the wire refers to a missing node 'ghost'")


def test_unknown_port(good):
    good["edges"][0]["target_port"] = "in7"
    error = _error(json.dumps(good))
    assert error.where == "$.edges[0].target_port"
    assert error.message == "Linear 'fc' has no input port 'in7' (it has: in)"
    good["edges"][0]["target_port"] = "in"
    good["edges"][0]["source_port"] = "result"
    assert _error(json.dumps(good)).where == "$.edges[0].source_port"


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 100_000 + "]" * 100_000, "the JSON is nested too deeply"),
    ('{"format": "strata", "version": ' + "9" * 5000 + "}", "a number too long"),
])
def test_hostile_json(text, message):
    assert message in _error(text).message


@pytest.mark.parametrize(("value", "where", "message"), [
    (1e999, "$.nodes[1].params.out_features", "numbers must be finite"),
    (10**30, "$.nodes[1].params.out_features", "number is too large"),
    ("x" * 20_000, "$.nodes[1].params.out_features", "longer than 10,000 characters"),
    ([[[[[[[[[[1]]]]]]]]]], "$.nodes[1].params.out_features" + "[0]" * 9,
     "nested too deeply"),
    (list(range(20_000)), "$.nodes[1].params.out_features", "list is too long"),
])
def test_hostile_values(good, value, where, message):
    good["nodes"][1]["params"]["out_features"] = value
    error = _error(json.dumps(good))
    assert (error.where, message in error.message) == (where, True), error


def test_hostile_text(good):
    text = json.dumps(good).replace('"Good"', '"\\ud800"')
    error = _error(text)
    assert (error.where, error.message) == ("$.name", "text is not valid Unicode")
    good["nodes"][1]["label"] = "l" * 1000
    assert _error(json.dumps(good)).where == "$.nodes[1].label"


def test_too_many_nodes(good, monkeypatch):
    monkeypatch.setattr(fileformat, "MAX_NODES", 2)
    error = _error(json.dumps(good))
    assert (error.where, error.message) == ("$.nodes", "4 nodes is more than 2")


def test_invalid_parameter_values_load_and_are_reported_by_validation(good):
    good["nodes"][1]["params"]["out_features"] = -4
    doc = load_dict(good)
    (problem,) = [p for p in graph.validate(doc) if p.kind == "param"]
    assert "Received: out_features=-4" in problem.message


def test_load_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "bad.strata"
    path.write_text('{"format": "strata", "version": 1, "nodes": 3}')
    with pytest.raises(DocumentError) as e:
        graph.load(path)
    assert str(e.value) == f"{path}: expected a list, found int (at $.nodes)"
    with pytest.raises(DocumentError, match="cannot read the file: No such file"):
        graph.load(tmp_path / "missing.strata")
    with pytest.raises(DocumentError, match="cannot read the file: Is a directory"):
        graph.load(tmp_path)
    monkeypatch.setattr(fileformat, "MAX_FILE_BYTES", 10)
    with pytest.raises(DocumentError, match="larger than"):
        graph.load(path)
