"""Which ports may be wired: the document's own rules, asked by every editor.

Orange's ``Scheme.check_connect``/``creates_cycle`` in our terms. ``can_connect`` says
whether one wire makes sense (an output to an input of another node, not there yet, not
closing a loop); ``connectable_ports`` lists every port a wire dragged from one port may
end on, in one graph walk, so it stays instant on large networks where asking
``can_connect`` per port would not. The studio's controller only asks; ``Document``
itself accepts any wire between existing ports (the analysis reports cycles).
"""

from __future__ import annotations

from .document import Document, Edge


def can_connect(doc: Document, source: str, source_port: str, target: str,
                target_port: str) -> bool:
    """Whether a wire from ``source.source_port`` to ``target.target_port`` makes sense."""
    if source == target or source not in doc.nodes or target not in doc.nodes:
        return False
    s, t = doc.nodes[source], doc.nodes[target]
    if source_port not in s.spec.output_names(s.params):
        return False
    if target_port not in t.spec.input_names(t.params):
        return False
    if Edge(source, source_port, target, target_port) in doc.edges:
        return False
    return not creates_cycle(doc, source, target)


def creates_cycle(doc: Document, source: str, target: str) -> bool:
    """Whether a wire from ``source`` to ``target`` would close a loop."""
    return source == target or source in downstream_nodes(doc, target)


def connectable_ports(doc: Document, node_id: str, port: str,
                      from_output: bool = True) -> set[tuple[str, str]]:
    """Every (node, port) a wire dragged from ``node_id.port`` may end on.

    Dragging from an output, that is every input port of a node that does not feed
    ``node_id`` (or a loop would close); dragging from an input, every output of a node
    ``node_id`` does not feed.
    """
    if node_id not in doc.nodes:
        return set()
    if from_output:
        blocked = upstream_nodes(doc, node_id) | {node_id}
        wired = {(e.target, e.target_port) for e in doc.edges_from(node_id)
                 if e.source_port == port}
        return {(n.id, p) for n in doc.nodes.values() if n.id not in blocked
                for p in n.spec.input_names(n.params) if (n.id, p) not in wired}
    blocked = downstream_nodes(doc, node_id) | {node_id}
    wired = {(e.source, e.source_port) for e in doc.edges_into(node_id)
             if e.target_port == port}
    return {(n.id, p) for n in doc.nodes.values() if n.id not in blocked
            for p in n.spec.output_names(n.params) if (n.id, p) not in wired}


def upstream_nodes(doc: Document, start: str) -> set[str]:
    """Every node that feeds ``start``, directly or not."""
    feeds: dict[str, list[str]] = {}
    for e in doc.edges:
        feeds.setdefault(e.target, []).append(e.source)
    return _walk(feeds, start)


def downstream_nodes(doc: Document, start: str) -> set[str]:
    """Every node ``start`` feeds, directly or not."""
    fed: dict[str, list[str]] = {}
    for e in doc.edges:
        fed.setdefault(e.source, []).append(e.target)
    return _walk(fed, start)


def _walk(neighbours: dict[str, list[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = list(neighbours.get(start, ()))
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(neighbours.get(n, ()))
    return seen
