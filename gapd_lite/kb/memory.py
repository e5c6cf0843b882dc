"""The fast default backend: the whole KB as forward and backward hash indexes in memory."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Iterable

from ..errors import KBError
from .base import KB, Step
from .io import read_triples
from .terms import Literal, Term


class MemoryKB(KB):
    """Dict-of-dict indexes (relation → subject → objects and back); answers each primitive by lookup."""

    name = "memory"

    def __init__(self, triples: Iterable[tuple[str, str, Term]] = ()):
        self.fwd: dict[str, dict[Term, set[Term]]] = defaultdict(dict)
        self.bwd: dict[str, dict[Term, set[Term]]] = defaultdict(dict)
        self.out_rels: dict[Term, set[str]] = defaultdict(set)
        self.in_rels: dict[Term, set[str]] = defaultdict(set)
        self._n = 0
        for s, p, o in triples:
            self.add(s, p, o)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "MemoryKB":
        """Load an N-Triples(.gz) file; the bundled Freebase subset when no path is given."""
        return cls(read_triples(path))

    def add(self, s: Term, p: str, o: Term) -> None:
        objs = self.fwd[p].setdefault(s, set())
        if o in objs:
            return
        objs.add(o)
        self.bwd[p].setdefault(o, set()).add(s)
        self.out_rels[s].add(p)
        self.in_rels[o].add(p)
        self._n += 1

    # ---- primitives ---------------------------------------------------------------------------
    def follow(self, sources: Iterable[Term], relation: str, forward: bool = True) -> set[Term]:
        index = (self.fwd if forward else self.bwd).get(relation)
        if not index:
            return set()
        out: set[Term] = set()
        for src in sources:
            hit = index.get(src)
            if hit:
                out |= hit
        return out

    def having(self, relation: str, forward: bool = True) -> set[Term]:
        return set((self.fwd if forward else self.bwd).get(relation, ()))

    def instances(self, cls: str) -> set[Term]:
        return set(self.bwd.get("type.object.type", {}).get(cls, ()))

    def relations_of(self, entities: Iterable[Term]) -> tuple[set[str], set[str]]:
        out, inc = set(), set()
        for e in entities:
            out |= self.out_rels.get(e, set())
            inc |= self.in_rels.get(e, set())
        return out, inc

    def names(self, entities: Iterable[Term]) -> dict[str, str]:
        index = self.fwd.get("type.object.name", {})
        result = {}
        for e in entities:
            names = index.get(e)
            if names:
                result[e] = _pick_name(names)
        return result

    def knows(self, term: str, kind: str) -> bool:
        if kind == "relation":
            return term in self.fwd
        if kind == "class":
            return term in self.bwd.get("type.object.type", {})
        return term in self.out_rels or term in self.in_rels

    # ---- faster derived operators ---------------------------------------------------------------
    def filter_class(self, entities: Iterable[Term], cls: str) -> set[Term]:
        members = self.bwd.get("type.object.type", {}).get(cls, set())
        return {e for e in entities if e in members}

    def values(self, entities: Iterable[Term], steps: tuple[Step, ...]) -> dict[Term, set[Term]]:
        if len(steps) == 1:
            relation, forward = steps[0]
            index = (self.fwd if forward else self.bwd).get(relation, {})
            return {e: set(index[e]) for e in entities if e in index}
        return super().values(entities, steps)

    # ---- inspection ---------------------------------------------------------------------------
    def triples(self) -> Iterable[tuple[Term, str, Term]]:
        for p, index in self.fwd.items():
            for s, objs in index.items():
                for o in objs:
                    yield s, p, o

    def count_triples(self) -> int:
        return self._n

    def relation_names(self) -> set[str]:
        return set(self.fwd)

    def by_name(self, name: str) -> list[str]:
        """Entities whose name is exactly `name` (case-insensitive), for people who know names not mids."""
        want = name.strip().lower()
        index = self.fwd.get("type.object.name", {})
        return sorted(e for e, names in index.items() if any(str(n).lower() == want for n in names))

    def require_entity(self, entity: str) -> None:
        if entity not in self.out_rels and entity not in self.in_rels:
            raise KBError(f"unknown entity {entity!r}: it appears in no triple of this KB; "
                          "look ids up with `gapd-lite kb-stats` or MemoryKB.by_name")


def _pick_name(names: set[Term]) -> str:
    """The English name when there are several (deterministic otherwise)."""
    lits = sorted((n for n in names if isinstance(n, Literal)), key=lambda n: (n.lang != "en", n.lexical))
    return lits[0].lexical if lits else str(sorted(map(str, names))[0])
