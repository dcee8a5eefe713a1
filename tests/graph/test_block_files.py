"""The user's block library on disk: save a document's block (with the blocks it
nests), read it back in another document, rename and delete it; files are written
atomically at the user's umask; a damaged file is skipped with a message naming it."""

from __future__ import annotations

import json
import os
import stat

import pytest
from test_block_library import _nested_source, _network

import graph
from graph.block_files import (
    ENV,
    SUFFIX,
    block_from_text,
    delete_block,
    library_folder,
    path_for,
    rename_block,
    save_block,
    scan,
)
from graph.block_insert import insert_block
from graph.blocks import ExposedParam
from graph.document import Edge
from graph.errors import DocumentError, StrataError


def test_a_saved_block_is_reused_in_another_document(tmp_path):
    source = _nested_source()
    path = save_block(tmp_path, source, "Stage")
    assert path == tmp_path / f"Stage{SUFFIX}"
    (entry,), bad = scan(tmp_path)
    assert bad == [] and entry.name == "Stage"
    assert list(entry.document.blocks.definitions) == ["Unit", "BasicBlock", "Stage"]
    doc, old = _network("MLPBlock")  # another network: a vector in, no blocks of those
    b = graph.builder.Builder()
    b.doc = doc = graph.Document("Other")
    x = b.chain(b.add("Input", shape=[3, 8, 8]), ("Conv2d", {"out_channels": 8}, "stem"))
    edit = insert_block(doc, entry.document, "Stage", label="stage")
    doc.connect(Edge(x, "out", edit.result["instance"], "in"))
    b.chain(edit.result["instance"], "Flatten", ("Linear", {"out_features": 2}), "Output")
    assert graph.analyze(doc).ok
    assert sorted(doc.blocks.definitions) == ["BasicBlock", "Stage", "Unit"]
    assert "class Stage(nn.Module):" in graph.compile_network(doc).code.source
    del old


def test_files_are_atomic_at_the_umask_and_hold_plain_sorted_json(tmp_path):
    old = os.umask(0o027)
    try:
        path = save_block(tmp_path / "new" / "folder", _network("BasicBlock")[0],
                          "BasicBlock")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    data = json.loads(path.read_text("utf-8"))
    assert data["format"] == "strata-block" and data["block"] == "BasicBlock"
    assert data["version"] == graph.fileformat.VERSION
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporaries
    with pytest.raises(StrataError, match="already has a block named 'BasicBlock'"):
        save_block(path.parent, _network("BasicBlock")[0], "BasicBlock")
    save_block(path.parent, _network("BasicBlock")[0], "BasicBlock", replace=True)


def test_save_as_another_name_rename_and_delete(tmp_path):
    doc = _network("SqueezeExcitation")[0]
    save_block(tmp_path, doc, "SqueezeExcitation", as_name="SE")
    (entry,), _ = scan(tmp_path)
    assert entry.name == "SE" and list(entry.document.blocks.definitions) == ["SE"]
    assert "SqueezeExcitation" in doc.blocks  # the document keeps its own name
    rename_block(tmp_path, "SE", "Gate")
    assert [p.name for p in tmp_path.iterdir()] == [f"Gate{SUFFIX}"]
    name, copy = block_from_text(path_for(tmp_path, "Gate").read_text("utf-8"))
    assert name == "Gate" and copy.blocks["Gate"].exposed[0].name == "channels"
    with pytest.raises(StrataError, match="cannot name a block"):
        rename_block(tmp_path, "Gate", "not a name")
    save_block(tmp_path, doc, "SqueezeExcitation")
    with pytest.raises(StrataError, match="already has a block named 'Gate'"):
        rename_block(tmp_path, "SqueezeExcitation", "Gate")
    delete_block(tmp_path, "Gate")
    assert [e.name for e in scan(tmp_path)[0]] == ["SqueezeExcitation"]
    with pytest.raises(StrataError, match="no block named 'Gate'"):
        delete_block(tmp_path, "Gate")


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("{\"format\": \"strata-block\", ", "not valid JSON"),
    ("[1, 2]", "not a Strata block"),
    ('{"format": "strata-block", "version": 99, "block": "X", "blocks": []}',
     "version 99 is not one this Strata reads"),
    ('{"format": "strata-block", "version": 3, "block": "X", "blocks": []}',
     "does not define the block 'X'"),
    (('{"format": "strata-block", "version": 3, "block": "X", "blocks": [{"name": "X", '
     '"nodes": [{"id": "a", "type": "NoSuchLayer"}]}]}'), "NoSuchLayer"),
    (('{"format": "strata-block", "version": 3, "block": "X", "blocks": [{"name": "X", '
     '"nodes": [], "edges": [], "exposed": [{"name": "c", "targets": [["zz", "p"]]}]}]}'),
     "the block has no node 'zz'"),
])
def test_a_damaged_file_is_skipped_with_a_message_naming_it(tmp_path, text, message):
    save_block(tmp_path, _network("MLPBlock")[0], "MLPBlock")
    (tmp_path / f"Broken{SUFFIX}").write_text(text, "utf-8")
    (tmp_path / "notes.txt").write_text("not a block", "utf-8")
    entries, (bad,) = scan(tmp_path)
    assert [e.name for e in entries] == ["MLPBlock"]
    assert bad.path.name == f"Broken{SUFFIX}" and message in bad.message
    assert bad.describe().startswith(f"Broken{SUFFIX}: ")
    with pytest.raises(DocumentError) as caught:
        graph.block_files.read_block(bad.path)
    assert str(bad.path) in str(caught.value)


def test_the_folder_comes_from_the_environment_when_set(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert library_folder(tmp_path / "app") == tmp_path / "app"
    monkeypatch.setenv(ENV, str(tmp_path / "mine"))
    assert library_folder(tmp_path / "app") == tmp_path / "mine"
    assert scan(tmp_path / "mine") == ([], [])  # a missing folder is an empty library


def test_a_block_that_would_not_load_again_is_not_written(tmp_path):
    doc = _network("MLPBlock")[0]
    body = doc.blocks["MLPBlock"].body
    fc = next(n.id for n in body.nodes.values() if n.label == "fc")
    # Edited in behind the checks: a parameter the reader refuses by its name.
    doc.blocks["MLPBlock"].exposed.append(ExposedParam("self", 1, [(fc, "out_features")]))
    with pytest.raises(StrataError, match="cannot save 'MLPBlock': it would not load"):
        save_block(tmp_path, doc, "MLPBlock")
    assert not tmp_path.joinpath(f"MLPBlock{SUFFIX}").exists()


def test_a_network_whose_block_lost_an_exposed_layer_still_saves(tmp_path):
    """Deleting a layer an exposed parameter sets leaves a target the reader would
    refuse: it is not written. (Grouping it into a nested block keeps the link: the
    parameter then sets the nested instance's parameter of its name.)"""
    doc = graph.load(graph_examples() / "blocks_resnet.strata")
    body = doc.blocks["BasicBlock"].body
    conv1 = next(n.id for n in body.nodes.values() if n.label == "conv1")
    bn1 = next(n.id for n in body.nodes.values() if n.label == "bn1")
    unit = body.group([conv1, bn1], "Unit", "unit").result["instance"]
    down = doc.blocks["DownBlock"].body
    down.remove_node(next(n.id for n in down.nodes.values() if n.label == "shortcut"))
    path = graph.save(doc, tmp_path / "net.strata")
    again = graph.load(path)
    assert [t for e in again.blocks["BasicBlock"].exposed for t in e.targets] == [
        t for e in doc.blocks["BasicBlock"].exposed for t in e.targets]
    assert (unit, "planes") in again.blocks["BasicBlock"].exposed[0].targets
    assert [t for e in again.blocks["DownBlock"].exposed for t in e.targets] == [
        t for e in doc.blocks["DownBlock"].exposed for t in e.targets
        if t[0] in down.nodes]
    # The same network after the round trip (the deleted shortcut is an error in both).
    assert [p.message for p in graph.analyze(again).problems] == [
        p.message for p in graph.analyze(doc).problems] != []
    save_block(tmp_path, doc, "BasicBlock")
    assert scan(tmp_path)[1] == []


def graph_examples():
    from strata_paths import EXAMPLES

    return EXAMPLES
