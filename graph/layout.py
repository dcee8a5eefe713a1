"""Left-to-right layered layout: each node's column is its topological generation.

Used by auto-arrange in the studio and by importers that create documents from code.
"""

from __future__ import annotations

import networkx as nx

from .document import Document

COLUMN = 240.0
ROW = 140.0


def layered_positions(doc: Document, node_ids=None) -> dict[str, tuple[float, float]]:
    """Positions for ``node_ids`` (all nodes by default) without overlaps.

    Columns follow the longest path from a source, so every wire points right; within a
    column nodes keep their previous vertical order, centred on the column.
    """
    ids = list(doc.nodes) if node_ids is None else [i for i in node_ids if i in doc.nodes]
    chosen = set(ids)
    g = nx.DiGraph()
    g.add_nodes_from(ids)
    g.add_edges_from((e.source, e.target) for e in doc.edges
                     if e.source in chosen and e.target in chosen)
    if not nx.is_directed_acyclic_graph(g):
        g.remove_edges_from(list(nx.find_cycle(g)))  # keep going; validation reports it
        while not nx.is_directed_acyclic_graph(g):
            g.remove_edges_from(list(nx.find_cycle(g)))
    index = {n: i for i, n in enumerate(ids)}
    depth: dict[str, int] = {}
    for n in nx.lexicographical_topological_sort(g, key=index.__getitem__):
        depth[n] = max((depth[p] + 1 for p in g.predecessors(n)), default=0)
    columns: dict[int, list[str]] = {}
    for n in ids:
        columns.setdefault(depth[n], []).append(n)
    left = min((doc.nodes[n].position[0] for n in ids), default=0.0) if node_ids else 0.0
    top = min((doc.nodes[n].position[1] for n in ids), default=0.0) if node_ids else 0.0
    tallest = max((len(c) for c in columns.values()), default=1)
    positions = {}
    for col, members in columns.items():
        members.sort(key=lambda n: (doc.nodes[n].position[1], index[n]))
        offset = (tallest - len(members)) * ROW / 2
        for row, n in enumerate(members):
            positions[n] = (left + col * COLUMN, top + offset + row * ROW)
    return positions
