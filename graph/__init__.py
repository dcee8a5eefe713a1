"""Strata's graph core: headless and Qt-free.

A network is a ``Document`` of nodes (layers from the catalog) and wires. This package
loads and saves documents, validates them, infers tensor shapes, generates readable
PyTorch code and compiles that very code into a module::

    import graph
    doc = graph.load("resources/examples/spiral_mlp.strata")
    for problem in graph.validate(doc):
        print(problem.describe(doc))
    print(graph.generate_code(doc).source)
    model = graph.compile(doc)
    print(graph.summarize(doc).table())       # layers, shapes, parameters, MACs

The document owns its rules, so every editor asks the same ones: ``wiring`` (which
ports may be wired, ``can_connect``/``creates_cycle``), ``fixes`` (the obvious one-click
fix of a problem, as data: ``edits``), ``outputs`` (which Output node training fits and
its task), ``state_dicts`` (reading trained weights). The file format migrates older
files (``fileformat.MIGRATIONS``) before anything reads them. The same operations back
the ``strata check [--fix] / summary`` commands (``graph.cli``); export and import of
every format is ``runtime.transfer``, built on this package.

Invariants: the document is the single source of truth; every edit is a Document method
that emits one typed event (a frozen dataclass from ``graph.events``: ``NodeAdded``,
``EdgeRemoved``, ``ParamsChanged``...; subscribe with ``doc.subscribe(listener)`` or
``doc.subscribe(listener, ParamsChanged)``); generated code is deterministic; the module
that trains is built from the generated source. Nothing here imports Qt.
"""

from .analysis import Analysis, Analyzer, NodeShapes, analyze, infer_shapes, validate
from .blocks import Definition, ExposedParam
from .catalog import TensorInfo, all_specs, get_spec
from .codegen import GeneratedCode, generate_code
from .compiler import CompiledNetwork, compile, compile_network
from .document import Document, Edge, Node
from .errors import DocumentError, GraphError, ParamError, ShapeError, StrataError
from .events import (
    BlocksEdited,
    DefinitionAdded,
    DefinitionChanged,
    DefinitionRemoved,
    DefinitionRenamed,
    DocumentEvent,
    EdgeAdded,
    EdgeRemoved,
    LabelChanged,
    MetadataChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    ParamsChanged,
    SweepChanged,
    TrainingChanged,
)
from .fileformat import load, loads, save
from .problems import Problem
from .summary import LayerRow, Summary, summarize

__all__ = [
    "Analysis",
    "Analyzer",
    "BlocksEdited",
    "CompiledNetwork",
    "Definition",
    "DefinitionAdded",
    "DefinitionChanged",
    "DefinitionRemoved",
    "DefinitionRenamed",
    "Document",
    "DocumentError",
    "DocumentEvent",
    "Edge",
    "EdgeAdded",
    "EdgeRemoved",
    "ExposedParam",
    "GeneratedCode",
    "GraphError",
    "LabelChanged",
    "LayerRow",
    "MetadataChanged",
    "Node",
    "NodeAdded",
    "NodeMoved",
    "NodeRemoved",
    "NodeShapes",
    "ParamError",
    "ParamsChanged",
    "Problem",
    "ShapeError",
    "StrataError",
    "Summary",
    "SweepChanged",
    "TensorInfo",
    "TrainingChanged",
    "all_specs",
    "analyze",
    "compile",
    "compile_network",
    "generate_code",
    "get_spec",
    "infer_shapes",
    "load",
    "loads",
    "save",
    "summarize",
    "validate",
]
