"""Left-to-right layered layout: each node's column is its topological generation.

Used by auto-arrange in the studio and by importers that create documents from code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .document import Document

if TYPE_CHECKING:
    import networkx as nx

COLUMN = 240.0
ROW = 140.0


def layered_positions(doc: Document, node_ids=None) -> dict[str, tuple[float, float]]:
    """Positions for ``node_ids`` (all nodes by default) without overlaps.

    Columns follow the longest path from a source, so every wire points right; within a
    column nodes keep their previous vertical order, centred on the column.
    """
    import networkx as nx  # imported on first use: a quarter of the studio's start

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


# ---------------------------------------------------------------------- wrapping
def wrapped_positions(doc: Document, node_ids=None, view: tuple[float, float] | None = None
                      ) -> dict[str, tuple[float, float]]:
    """``layered_positions``, with a long chain of columns wrapped into rows (bands)
    so the whole fits ``view`` (width, height in pixels) at the largest zoom.

    Each band holds consecutive columns and starts again at the left, like lines of
    text; a network that fits in one band is left as ``layered_positions`` makes it.
    """
    positions = layered_positions(doc, node_ids)
    if not positions or view is None or view[0] <= 0 or view[1] <= 0:
        return positions
    left = min(x for x, _ in positions.values())
    top = min(y for _, y in positions.values())
    column = {n: round((x - left) / COLUMN) for n, (x, _) in positions.items()}
    columns = max(column.values()) + 1
    # Each column's depth (its cards' own heights: a chain of Linear cards, 69 units,
    # counted as 110 each wrapped a 21-layer chain a band short of fitting).
    depth = [0.0] * columns
    for n, (_, y) in positions.items():
        depth[column[n]] = max(depth[column[n]], y - top + card_size(doc.nodes[n])[1])
    candidates = []  # (columns per band, zoom, band pitches), fewest bands first
    for per_band in range(columns, 0, -1):
        pitch = [max(depth[i:i + per_band]) + BAND_GAP for i in range(0, columns, per_band)]
        # The network's size as the view frames it (``NetworkView.fit_rect`` pads it).
        width = (per_band - 1) * COLUMN + CARD_WIDTH + FIT_PAD[0]
        height = sum(pitch) - BAND_GAP + FIT_PAD[1]
        candidates.append((per_band, min(1.0, view[0] / width, view[1] / height), pitch))
    # The fewest bands (wires mostly run right) at nearly the largest zoom: the fewest
    # that "read well" (70%) took a 10-layer chain to 7 + 3 columns at 78% in a
    # 1920x1080 window, where 6 + 4 fit at 93%.
    # Never below the zoom where the studio draws card text, when some wrap reaches it.
    top_zoom = max(zoom for _, zoom, _ in candidates)
    enough = max(top_zoom * NEARLY, min(top_zoom, CARDS_DRAWN))
    best, _zoom, best_pitch = next(c for c in candidates if c[1] >= enough)
    if best >= columns:
        return positions
    offsets = [sum(best_pitch[:k]) for k in range(len(best_pitch))]
    return {n: (left + (column[n] % best) * COLUMN, y + offsets[column[n] // best])
            for n, (x, y) in positions.items()}


# ---------------------------------------------------------------------- free space
CARD_WIDTH = 140.0
CARD_HEIGHT = 110.0  # the tallest common card; taller ones are rare
BAND_GAP = 40.0  # room between bands for the wire back to the left and its label
MARGIN = 20.0
GRID = 20.0
NEARLY = 0.9  # a wrap this close to the largest zoom is as good (fewer bands win)
# The studio draws a card's text from 55% (``studio.canvas.node_item.LOD_TEXT``) and
# frames no smaller than 57%; with a margin for this estimate of the view's fit.
CARDS_DRAWN = 0.6
FIT_PAD = (80.0, 100.0)  # scene units the view keeps around a fitted network


def card_size(node, spec=None, params=None) -> tuple[float, float]:
    """The card's size on the canvas (the studio draws it: header, a row per key
    parameter and port, padding); of ``node``, or of a new ``spec`` with ``params``."""
    if node is not None:
        spec, params = node.spec, node.params
    params = {**spec.default_params(), **(params or {})}
    rows = max(1 + len(spec.key_params), len(spec.input_names(params)),
               len(spec.output_names(params)))
    return CARD_WIDTH, 24.0 + 5.0 + 17.0 * rows + 6.0


def _rects(doc: Document, ignore=()) -> list[tuple[float, float, float, float]]:
    out = []
    for n in doc.nodes.values():
        if n.id in ignore:
            continue
        w, h = card_size(n)
        out.append((n.position[0], n.position[1], w, h))
    return out


def _hits(rects, x: float, y: float, w: float, h: float) -> bool:
    return any(x < rx + rw + MARGIN and rx < x + w + MARGIN
               and y < ry + rh + MARGIN and ry < y + h + MARGIN
               for rx, ry, rw, rh in rects)


def free_position(doc: Document, position, size=(CARD_WIDTH, CARD_HEIGHT), ignore=()
                  ) -> tuple[float, float]:
    """``position`` if a card of ``size`` there overlaps none, else the nearest grid
    spot that is free (searched in growing rings, right and down first)."""
    rects = _rects(doc, ignore)
    x0, y0 = float(position[0]), float(position[1])
    if not _hits(rects, x0, y0, *size):
        return x0, y0
    for ring in range(1, 200):
        r = ring * GRID
        spots = [(x0 + dx, y0 + dy) for dx in _steps(r) for dy in _steps(r)
                 if max(abs(dx), abs(dy)) == r]
        spots.sort(key=lambda p: ((p[0] - x0) ** 2 + (p[1] - y0) ** 2,
                                  -(p[0] - x0), -(p[1] - y0)))
        for x, y in spots:
            if not _hits(rects, x, y, *size):
                return x, y
    return x0, y0


def free_offset(doc: Document, rects: list[tuple[float, float, float, float]],
                offset=(0.0, 0.0)) -> tuple[float, float]:
    """An offset (from ``offset`` on) that puts a group of cards where none overlaps
    the document's (a paste)."""
    existing = _rects(doc)
    dx, dy = float(offset[0]), float(offset[1])
    for _ in range(400):
        if not any(_hits(existing, x + dx, y + dy, w, h) for x, y, w, h in rects):
            return dx, dy
        dy += GRID * 2
    return float(offset[0]), float(offset[1])


def room_for_insert(doc: Document, source: str, target: str
                    ) -> tuple[tuple[float, float], dict[str, tuple[float, float]]]:
    """Where a layer put between ``source`` and ``target`` goes, and the moves that
    make room for it: ``target`` and everything after it shift right when the new
    card would overlap them (nothing moves when there is room already)."""
    s, t = doc.nodes[source], doc.nodes[target]
    sw, _ = card_size(s)
    gap = COLUMN - CARD_WIDTH
    x = s.position[0] + sw + gap
    y = s.position[1]
    moves: dict[str, tuple[float, float]] = {}
    need = x + CARD_WIDTH + gap - t.position[0]
    same_row = abs(t.position[1] - s.position[1]) < CARD_HEIGHT
    if same_row and need > 0:
        shift = -(-need // GRID) * GRID
        import networkx as nx

        after = nx.descendants(_graph(doc), target) | {target}
        for n in after:
            px, py = doc.nodes[n].position
            if px >= t.position[0] - 1 and abs(py - t.position[1]) < CARD_HEIGHT * 2:
                moves[n] = (px + shift, py)
    elif not same_row:
        x = (s.position[0] + t.position[0]) / 2
        y = (s.position[1] + t.position[1]) / 2
        x, y = round(x / GRID) * GRID, round(y / GRID) * GRID
        x, y = free_position(doc, (x, y))
    return (x, y), moves


def _graph(doc: Document) -> nx.DiGraph:
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(doc.nodes)
    g.add_edges_from((e.source, e.target) for e in doc.edges)
    return g


def _steps(r: float) -> list[float]:
    n = int(r / GRID)
    return [k * GRID for k in range(-n, n + 1)]
