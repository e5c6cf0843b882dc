"""The one KB interface: a few graph primitives every backend answers, plus derived operators."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterable

from .compare import satisfies
from .terms import Literal, Term

Step = tuple[str, bool]  # (relation, forward?) as walked from the subject


class KB(ABC):
    """A Freebase-shaped store. Backends implement the primitives; the operators build on them."""

    name: str = "kb"

    # ---- primitives -------------------------------------------------------------------------
    @abstractmethod
    def follow(self, sources: Iterable[Term], relation: str, forward: bool = True) -> set[Term]:
        """Objects of `relation` from `sources` (or subjects pointing at them when not forward)."""

    @abstractmethod
    def having(self, relation: str, forward: bool = True) -> set[Term]:
        """Every subject that has `relation` (every object of it when not forward)."""

    @abstractmethod
    def instances(self, cls: str) -> set[Term]:
        """Every entity typed `cls` (type.object.type)."""

    @abstractmethod
    def relations_of(self, entities: Iterable[Term]) -> tuple[set[str], set[str]]:
        """(outgoing, incoming) relations of any of the entities."""

    @abstractmethod
    def names(self, entities: Iterable[Term]) -> dict[str, str]:
        """type.object.name of the entities that have one."""

    def knows(self, term: str, kind: str) -> bool:
        """Whether an entity, relation or class occurs in the KB (kind: entity | relation | class)."""
        if kind == "relation":
            return bool(self.having(term))
        if kind == "class":
            return bool(self.instances(term))
        out, inc = self.relations_of([term])
        return bool(out or inc)

    # ---- derived operators (backends may override with a faster query) -----------------------
    def types_of(self, entity: str) -> set[str]:
        return {t for t in self.follow([entity], "type.object.type") if isinstance(t, str)}

    def values(self, entities: Iterable[Term], steps: tuple[Step, ...]) -> dict[Term, set[Term]]:
        """For each entity, the terms reached by walking `steps` from it (entities without any are left out)."""
        out: dict[Term, set[Term]] = {}
        for entity in entities:
            reached: set[Term] = {entity}
            for relation, forward in steps:
                reached = self.follow(reached, relation, forward)
                if not reached:
                    break
            if reached:
                out[entity] = reached
        return out

    def walk_back(self, targets: Iterable[Term], steps: tuple[Step, ...]) -> set[Term]:
        """Subjects from which walking `steps` reaches one of `targets` (the meaning of JOIN)."""
        current = set(targets)
        for relation, forward in reversed(steps):
            current = self.follow(current, relation, not forward)
            if not current:
                break
        return current

    def filter_class(self, entities: Iterable[Term], cls: str) -> set[Term]:
        """The entities typed `cls`."""
        entities = set(entities)
        if not entities:
            return set()
        return entities & self.walk_back([cls], (("type.object.type", True),))

    def compare_all(self, steps: tuple[Step, ...], op: str, value: Literal) -> set[Term]:
        """Every subject with a value along `steps` that satisfies `op value` (a bare GrailQA comparative)."""
        first, forward = steps[0]
        return compare_filter(self, self.having(first, forward), steps, op, value)

    def count_triples(self) -> int | None:
        """Number of triples where the backend can tell cheaply."""
        return None

    def close(self) -> None:
        """Release files, processes or connections."""

    def __enter__(self) -> "KB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def compare_filter(kb: KB, members: Iterable[Term], path: tuple[Step, ...], op: str, bound: Literal) -> set[Term]:
    """Members with some value along `path` satisfying `op bound` (lt/le/gt/ge)."""
    return {m for m, vals in kb.values(members, path).items() if any(satisfies(v, op, bound) for v in vals)}
