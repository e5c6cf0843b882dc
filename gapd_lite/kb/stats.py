"""Counts that describe a KB: what the data card and `gapd-lite kb-stats` report."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

from .memory import MemoryKB
from .terms import Literal

SCHEMA_RELATIONS = ("type.object.type", "type.object.name", "type.property.schema", "type.property.expected_type",
                    "type.property.reverse_property", "freebase.type_hints.mediator")


@dataclass(frozen=True)
class KBStats:
    triples: int
    entities: int  # nodes with a name (topics)
    cvt_nodes: int
    classes: int
    cvt_classes: int
    relations: int  # relations used by facts (schema bookkeeping left out)
    domains: int
    literal_types: dict[str, int]

    def as_dict(self) -> dict:
        return asdict(self)


def mediator_classes(kb: MemoryKB) -> set[str]:
    """Classes flagged as CVTs (freebase.type_hints.mediator true)."""
    index = kb.fwd.get("freebase.type_hints.mediator", {})
    return {c for c, vals in index.items() if Literal("true", "boolean") in vals}


def kb_stats(kb: MemoryKB) -> KBStats:
    types = kb.bwd.get("type.object.type", {})
    cvts = mediator_classes(kb)
    cvt_nodes = {n for c in cvts for n in types.get(c, ())}
    schema_nodes = set(types.get("type.property", ())) | set(types.get("type.type", ()))
    named = set(kb.fwd.get("type.object.name", {})) - schema_nodes
    classes = {c for c in types if c not in ("type.property", "type.type")}
    facts = {r for r in kb.fwd if r not in SCHEMA_RELATIONS}
    literal_types = Counter(o.datatype for idx in kb.fwd.values() for objs in idx.values() for o in objs
                            if isinstance(o, Literal))
    return KBStats(triples=kb.count_triples(), entities=len(named), cvt_nodes=len(cvt_nodes), classes=len(classes),
                   cvt_classes=len(cvts), relations=len(facts), domains=len({r.split(".")[0] for r in facts}),
                   literal_types=dict(sorted(literal_types.items())))
