"""`gapd-lite convert`: logical forms of a question file → gold actions and SPARQL, one jsonl line per record."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from tqdm.auto import tqdm

from .data import Question, iter_records
from .errors import DataError, GapdError
from .logic.sexpr import parse
from .logic.to_actions import to_actions
from .logic.temporal import check_semantics
from .logic.to_sparql import to_sparql


def convert_question(q: Question, semantics: str = "default") -> dict:
    """One output record; `error` holds a clear message instead of raising (SPARQL under `semantics`)."""
    row = {"qid": q.qid, "s_expression": q.s_expression, "actions": None, "sparql": None, "error": None}
    if q.s_expression is None:
        row["error"] = ("no S-expression in this record" + (
            " (a WebQSP parse with raw SPARQL only: use a WebQSP file whose parses carry an SExpr field, "
            "as public preprocessing produces)" if q.source == "webqsp" else ""))
        return row
    try:
        tree = parse(q.s_expression)
        row["actions"] = [str(a) for a in to_actions(tree)]
        row["sparql"] = to_sparql(tree, semantics)
    except GapdError as exc:
        row["error"] = str(exc)
    except RecursionError:  # a safety net: one record must never stop the run
        row["error"] = "logical form nested too deeply to convert"
    return row


def convert_file(path: str | Path, out: TextIO, semantics: str = "default") -> dict[str, int]:
    """Stream every record of `path` to `out`; one bad record never stops the run."""
    check_semantics(semantics)
    counts = {"total": 0, "ok": 0, "error": 0}
    for i, item in tqdm(iter_records(path), desc="convert", unit="q", leave=False):
        if isinstance(item, DataError):
            row = {"qid": None, "s_expression": None, "actions": None, "sparql": None, "error": f"record {i}: {item}"}
        else:
            row = convert_question(item, semantics)
        counts["total"] += 1
        counts["error" if row["error"] else "ok"] += 1
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return counts
