"""Pictures: an entity's neighbourhood, a logical form as a tree, gold states step by step."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import networkx as nx

from .kb.base import KB
from .kb.terms import Literal, Term
from .logic import sexpr as S


def _short(text: str, n: int = 22) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _label(term: Term, names: dict[str, str]) -> str:
    if isinstance(term, Literal):
        return _short(term.lexical)
    return _short(names.get(term, term))


def neighbourhood(kb: KB, entity: str, max_edges: int = 30, hops: int = 1,
                  skip: Iterable[str] = ("type.object.type", "type.object.name")) -> nx.MultiDiGraph:
    """The entity's outgoing facts (and, with hops=2, those of CVT nodes it reaches) as a graph."""
    skip = set(skip)
    graph = nx.MultiDiGraph()
    frontier = [entity]
    for depth in range(hops):
        nxt = []
        for node in frontier:
            out, _ = kb.relations_of([node])
            for rel in sorted(r for r in out if r not in skip):
                for obj in sorted(kb.follow([node], rel), key=str)[:3]:
                    if graph.number_of_edges() >= max_edges:
                        return graph
                    graph.add_edge(node, obj, relation=rel)
                    if depth + 1 < hops and isinstance(obj, str) and not kb.names([obj]):
                        nxt.append(obj)  # a nameless node: a CVT worth expanding
        frontier = nxt
    return graph


def draw_graph(kb: KB, graph: nx.MultiDiGraph, highlight: Iterable[Term] = (), title: str = "",
               ax=None, path: str | Path | None = None):
    """Draw a KB subgraph with entity names, relation labels and highlighted nodes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(11, 7))
    names = kb.names([n for n in graph.nodes if isinstance(n, str)])
    for n in graph.nodes:  # nameless nodes are CVTs: label them by their class
        if isinstance(n, str) and n not in names:
            types = sorted(kb.types_of(n))
            names[n] = f"[{types[0].split('.')[-1]}]" if types else n
    highlight = set(highlight)
    pos = nx.spring_layout(graph, seed=3, k=1.2)
    colors = ["#f4a261" if n in highlight else "#e9f5db" if isinstance(n, Literal) else
              "#dddddd" if names.get(n, "").startswith("[") else "#a8dadc" for n in graph.nodes]
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colors, node_size=900, edgecolors="#555555")
    nx.draw_networkx_labels(graph, pos, ax=ax, labels={n: _label(n, names) for n in graph.nodes}, font_size=7)
    nx.draw_networkx_edges(graph, pos, ax=ax, arrows=True, arrowsize=10, edge_color="#888888",
                           connectionstyle="arc3,rad=0.08")
    edge_labels = {(u, v): _short(d["relation"].split(".")[-1], 18) for u, v, d in graph.edges(data=True)}
    nx.draw_networkx_edge_labels(graph, pos, ax=ax, edge_labels=edge_labels, font_size=6)
    ax.set_title(title)
    ax.axis("off")
    if path:
        ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    return ax


def logical_form_tree(node: S.SetExpr) -> nx.DiGraph:
    """The S-expression as a tree: operators inside, entities/classes/literals at the leaves."""
    graph, counter = nx.DiGraph(), [0]

    def add(label: str, kind: str) -> int:
        counter[0] += 1
        graph.add_node(counter[0], label=label, kind=kind)
        return counter[0]

    def path_label(p: S.Path) -> str:
        return "/".join(("" if fwd else "^") + name.split(".")[-1] for name, fwd in S.steps(p))

    def visit(n: S.SetExpr) -> int:
        if isinstance(n, S.Entity):
            return add(n.id, "entity")
        if isinstance(n, S.Const):
            return add(_short(n.literal.lexical), "literal")
        if isinstance(n, S.Class):
            return add(n.name, "class")
        if isinstance(n, S.Join):
            me = add(f"JOIN\n{path_label(n.path)}", "op")
        elif isinstance(n, S.Arg):
            me = add(f"{n.op}\n{path_label(n.path)}", "op")
        elif isinstance(n, S.Compare):
            me = add(f"{n.op} {path_label(n.path)}\n{_short(n.value.literal.lexical)}", "op")
        elif isinstance(n, S.TC):
            me = add(f"TC {path_label(n.rel)}\n{S.to_sexpr(n.time)}", "op")
        else:
            me = add(type(n).__name__.upper(), "op")
        for child in S.children(n):
            graph.add_edge(me, visit(child))
        return me

    visit(node)
    return graph


def _tree_layout(graph: nx.DiGraph) -> dict[int, tuple[float, float]]:
    """Leaves spread left to right, parents centred above their children."""
    pos, next_x = {}, [0.0]
    root = next(n for n in graph.nodes if graph.in_degree(n) == 0)

    def place(n: int, depth: int) -> float:
        kids = list(graph.successors(n))
        x = sum(place(k, depth + 1) for k in kids) / len(kids) if kids else next_x[0]
        if not kids:
            next_x[0] += 1.0
        pos[n] = (x, -depth)
        return x

    place(root, 0)
    return pos


def draw_logical_form(node: S.SetExpr, ax=None, path: str | Path | None = None):
    """Draw a parsed logical form as a tree."""
    import matplotlib.pyplot as plt

    graph = logical_form_tree(node)
    if ax is None:
        width = max(6.0, 1.6 * sum(1 for n in graph.nodes if graph.out_degree(n) == 0))
        _, ax = plt.subplots(figsize=(min(width, 16), 1.5 + 1.3 * nx.dag_longest_path_length(graph)))
    pos = _tree_layout(graph)
    palette = {"op": "#ffd6a5", "entity": "#a8dadc", "class": "#cdb4db", "literal": "#e9f5db"}
    nx.draw_networkx_edges(graph, pos, ax=ax, arrows=False, edge_color="#888888")
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=[palette[graph.nodes[n]["kind"]] for n in graph.nodes],
                           node_size=2300, node_shape="s", edgecolors="#555555")
    nx.draw_networkx_labels(graph, pos, ax=ax, labels={n: graph.nodes[n]["label"] for n in graph.nodes}, font_size=7)
    ax.axis("off")
    ax.margins(0.12)
    if path:
        ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    return ax


def draw_token_mask(tokenizer, rendered, start: int = 0, max_tokens: int = 260, width: int = 26, ax=None,
                    path: str | Path | None = None):
    """Tokens of a trajectory in a grid: orange where the policy wrote them (mask 1), grey elsewhere."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    ids, mask = rendered.ids[start:start + max_tokens], rendered.mask[start:start + max_tokens]
    actions = {i for span in rendered.action_spans if span for i in range(*span)}
    rows = (len(ids) + width - 1) // width
    if ax is None:
        _, ax = plt.subplots(figsize=(width * 0.62, rows * 0.34 + 0.6))
    for k, (tid, m) in enumerate(zip(ids, mask)):
        r, c = divmod(k, width)
        colour = "#e76f51" if (start + k) in actions else "#f4a261" if m else "#e5e5e5"
        ax.add_patch(Rectangle((c, -r), 0.96, 0.9, color=colour))
        text = tokenizer.decode([tid]).replace("\n", "⏎")[:6]
        ax.text(c + 0.48, -r + 0.45, text, ha="center", va="center", fontsize=5.5)
    ax.set_xlim(0, width)
    ax.set_ylim(-rows + 0.9, 1)
    ax.axis("off")
    ax.set_title("policy tokens (orange; the action itself darker) vs prompt/observation tokens (grey)", fontsize=9)
    if path:
        ax.figure.savefig(path, dpi=130, bbox_inches="tight")
    return ax


def gold_program_graph(gold, per_node: int = 3) -> nx.MultiDiGraph:
    """The KB edges the gold program's get_neighbors steps walk (a few per state), for drawing."""
    from .logic.actions import Var

    graph = nx.MultiDiGraph()
    states = {g.var: g.state for g in gold if g.var is not None}
    for g in gold:
        if g.action.name != "get_neighbors":
            continue
        src = g.action.args[0]
        sources = sorted(states[src.index], key=str)[:per_node] if isinstance(src, Var) else [src]
        (rel, fwd), = g.action.args[1].steps
        for s in sources:
            for o in sorted(g.state, key=str)[:per_node]:
                graph.add_edge(s, o, relation=("" if fwd else "^") + rel)
    return graph
