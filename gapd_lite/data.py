"""Question sets: read and write GrailQA json/jsonl and WebQSP json (original or with SExpr), and splits."""
from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import DataError, GapdError
from .kb.io import data_dir
from .kb.terms import Literal, Term

LEVELS = ("i.i.d.", "compositional", "zero-shot")
SPLITS = ("train", "dev", "test")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Answer:
    """One gold answer as GrailQA writes it: an entity (mid + name) or a value (lexical form)."""
    answer_type: str  # "Entity" | "Value"
    answer_argument: str
    entity_name: str | None = None


@dataclass
class Question:
    """One KBQA question in GrailQA's fields (WebQSP records are mapped onto them)."""
    qid: str
    question: str
    s_expression: str | None = None
    sparql_query: str | None = None
    answer: list[Answer] = field(default_factory=list)
    function: str | None = None
    level: str | None = None
    domains: list[str] = field(default_factory=list)
    num_node: int | None = None
    num_edge: int | None = None
    source: str = "grailqa"

    @property
    def answer_set(self) -> frozenset[str]:
        return frozenset(answer_key(a.answer_argument) for a in self.answer)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("source")
        out["answer"] = [{k: v for k, v in asdict(a).items() if v is not None} for a in self.answer]
        return out


def answer_key(value: Term | str) -> str:
    """A comparable string for an answer: the mid, or the literal's value (numbers compared as numbers)."""
    text = value.lexical if isinstance(value, Literal) else str(value)
    try:
        return repr(float(text))
    except ValueError:
        return text


def answers_from_terms(terms: Iterable[Term], names: dict[str, str] | None = None) -> list[Answer]:
    """GrailQA answer records for an executed answer set."""
    from .kb.terms import term_sort_key

    out = []
    for t in sorted(terms, key=term_sort_key):
        if isinstance(t, Literal):
            out.append(Answer("Value", t.lexical))
        else:
            out.append(Answer("Entity", t, (names or {}).get(t)))
    return out


# ---------------------------------------------------------------------------- reading
def _read_text(path: Path) -> str:
    """The file's UTF-8 text; a missing file, a folder, a pipe or device, or another encoding is a DataError."""
    if not path.exists():
        raise DataError(f"question file not found: {path}")
    if path.is_dir():
        raise DataError(f"{path} is a folder; give a question file (GrailQA json/jsonl or WebQSP json) inside it")
    try:  # O_NONBLOCK: a FIFO with no writer opens at once (and is then refused) instead of blocking forever
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DataError(f"{path} is not a regular file (a pipe, socket or device); save the questions to a "
                            ".json/.jsonl file and give that")
        raw = f.read()
    head = raw[:64]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) >= 4 and (not any(head[0::2]) or not any(head[1::2]))):
        raise DataError(f"{path} is UTF-16 text; re-save it as UTF-8")
    if b"\x00" in raw[:4096]:
        raise DataError(f"{path} is a binary file, not GrailQA json/jsonl or WebQSP json text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}; Latin-1 or "
                        "Windows-1252?); re-save it as UTF-8") from None


def _json(text: str) -> Any:
    """json.loads that reports nesting too deep for Python as a ValueError like any other bad JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply to read", text, 0) from None


def _records(path: Path) -> Any:
    text = _read_text(path)
    if not text.strip():
        raise DataError(f"{path} is empty: expected GrailQA json/jsonl or WebQSP json")
    try:
        return _json(text)
    except json.JSONDecodeError as first:
        if first.msg == "nested too deeply to read":
            raise DataError(f"{path}: JSON nested too deeply to read; a question file is a list of flat records") from None
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(_json(line))
            except json.JSONDecodeError as exc:
                if n == 1:
                    raise DataError(f"{path} is neither JSON nor JSON lines ({first.msg} at line {first.lineno}); "
                                    "expected GrailQA json/jsonl or WebQSP json") from None
                raise DataError(f"{path}: line {n} is not valid JSON ({exc.msg}); fix or remove that line") from None
        return rows


def _top_records(data: Any, path: Path) -> tuple[list, bool]:
    """The list of records and whether the file is WebQSP's {"Questions": [...]}."""
    if isinstance(data, dict) and "Questions" in data:
        if not isinstance(data["Questions"], list):
            raise DataError(f'{path}: "Questions" is {_kind(data["Questions"])}; WebQSP json has a list of questions there')
        return data["Questions"], True
    if isinstance(data, dict):
        return [data], False
    if isinstance(data, list):
        return data, False
    raise DataError(f"{path}: top level is {type(data).__name__}; expected a list of questions or WebQSP's "
                    '{"Questions": [...]}')


def load_questions(path: str | Path, check_forms: bool = False) -> list[Question]:
    """Read GrailQA json/jsonl, original WebQSP json, or WebQSP-style records carrying an S-expression.

    Every problem is a DataError naming the file and the record's qid; `check_forms` also parses every
    S-expression, so a broken one is reported before a model is loaded to train or evaluate on it.
    """
    path = Path(path)
    records, webqsp = _top_records(_records(path), path)
    out, seen = [], {}
    for i, rec in enumerate(records):
        q = _question(rec, i, path, webqsp)
        if q.qid in seen:
            raise DataError(f"{path}: qid {q.qid!r} appears twice (records {seen[q.qid]} and {i}); qids must be "
                            "unique, since results are kept per qid")
        seen[q.qid] = i
        if check_forms:
            check_form(q, i, path)
        out.append(q)
    return out


def check_form(q: Question, i: int, path: Path) -> None:
    """Raise DataError naming the file and qid if the record's S-expression does not parse."""
    from .logic.sexpr import parse

    if q.s_expression is not None:
        try:
            parse(q.s_expression)
        except GapdError as exc:
            reason = getattr(exc, "reason", str(exc)) + (f" at character {exc.pos}" if getattr(exc, "pos", None) is not None else "")
            raise DataError(f"{path}: record {i} (qid {q.qid!r}) has a bad s_expression ({reason}); fix or remove "
                            "that record") from None


def iter_records(path: str | Path) -> Iterator[tuple[int, Question | DataError]]:
    """Like load_questions, but one bad record (or a repeated qid) yields a DataError in its place instead of stopping.

    The file itself is read (and a missing or unreadable file reported) before the first item.
    """
    path = Path(path)
    records, webqsp = _top_records(_records(path), path)
    return _iter_records(records, webqsp, path)


def _iter_records(records: list, webqsp: bool, path: Path) -> Iterator[tuple[int, Question | DataError]]:
    seen: dict[str, int] = {}
    for i, rec in enumerate(records):
        try:
            q = _question(rec, i, path, webqsp)
            if q.qid in seen:
                raise DataError(f"{path}: record {i} repeats qid {q.qid!r} of record {seen[q.qid]}; skipped")
            seen[q.qid] = i
            yield i, q
        except DataError as exc:
            yield i, exc


def _question(rec: Any, i: int, path: Path, webqsp: bool) -> Question:
    if not isinstance(rec, dict):
        raise DataError(f"{path}: record {i} is {_kind(rec)}, not an object")
    if webqsp or "QuestionId" in rec or "Parses" in rec or "RawQuestion" in rec:
        return _from_webqsp(rec, i, path)
    return _from_grailqa(rec, i, path)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _text(value: Any, name: str, where: str, optional: bool = True, numbers: bool = False) -> str | None:
    """A string field (numbers too where `numbers`: ids and values), refused if another type or not valid Unicode."""
    if value is None and optional:
        return None
    if numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise DataError(f'{where}: "{name}" is {_kind(value)}, expected a string')
    if _SURROGATE.search(value):
        raise DataError(f'{where}: "{name}" holds a lone surrogate (\\ud800-\\udfff), which is not valid Unicode text')
    return value


def _count(value: Any, name: str, where: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise DataError(f'{where}: "{name}" is {_kind(value)}, expected a whole number')


def _list(value: Any, name: str, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DataError(f'{where}: "{name}" is {_kind(value)}, expected a list')
    return value


def _pick(rec: dict, *names: str) -> tuple[str, Any]:
    """The first of `names` present in `rec` (and its value), else the first name and None."""
    for name in names:
        if name in rec:
            return name, rec[name]
    return names[0], None


def _form(value: Any, name: str, where: str) -> str | None:
    sexpr = _text(value, name, where)
    return None if sexpr in (None, "null", "") else sexpr


def _from_grailqa(rec: dict, i: int, path: Path) -> Question:
    qid_name, qid = _pick(rec, "qid", "ID", "id")
    text_name, text = _pick(rec, "question", "ProcessedQuestion", "RawQuestion")
    if qid is None or text is None:
        raise DataError(f"{path}: record {i} has no qid/question field; GrailQA records need both")
    qid = _text(qid, qid_name, f"{path}: record {i}", numbers=True)
    where = f"{path}: record {i} (qid {qid!r})"
    answer_name, answers = _pick(rec, "answer", "answers", "Answers")
    return Question(
        qid=qid, question=_text(text, text_name, where), s_expression=_form(_pick(rec, "s_expression", "SExpr", "sexpr")[1],
                                                                          "s_expression", where),
        sparql_query=_text(_pick(rec, "sparql_query", "sparql", "Sparql")[1], "sparql_query", where),
        answer=[_answer(a, where) for a in _list(answers, answer_name, where)],
        function=_text(rec.get("function"), "function", where), level=_text(rec.get("level"), "level", where),
        domains=[_text(d, "domains", where, optional=False) for d in _list(rec.get("domains"), "domains", where)],
        num_node=_count(rec.get("num_node"), "num_node", where), num_edge=_count(rec.get("num_edge"), "num_edge", where),
        source="grailqa")


def _answer(a: Any, where: str) -> Answer:
    if isinstance(a, str):
        a = _text(a, "answer", where)
        return Answer("Entity" if a.startswith(("m.", "g.")) else "Value", a)
    if not isinstance(a, dict):
        raise DataError(f"{where} has an answer that is {_kind(a)}, neither an object nor a string")
    arg_name, arg = _pick(a, "answer_argument", "AnswerArgument")
    if arg is None:
        raise DataError(f"{where} has an answer without answer_argument")
    return Answer(_text(_pick(a, "answer_type", "AnswerType")[1] or "Entity", "answer_type", where),
                  _text(arg, arg_name, where, numbers=True), _text(_pick(a, "entity_name", "EntityName")[1], "entity_name", where))


def _from_webqsp(rec: dict, i: int, path: Path) -> Question:
    qid_name, qid = _pick(rec, "QuestionId", "ID")
    text_name, text = _pick(rec, "ProcessedQuestion", "RawQuestion", "question")
    if qid is None or text is None:
        raise DataError(f"{path}: WebQSP record {i} has no QuestionId/ProcessedQuestion")
    qid = _text(qid, qid_name, f"{path}: WebQSP record {i}", numbers=True)
    where = f"{path}: WebQSP record {i} (qid {qid!r})"
    parses = _list(rec.get("Parses"), "Parses", where) or [rec]
    for p in parses:
        if not isinstance(p, dict):
            raise DataError(f'{where}: "Parses" holds {_kind(p)}; WebQSP parses are objects with SExpr/Sparql/Answers')
    chosen = next((p for p in parses if _form(_pick(p, "SExpr", "sexpr")[1], "SExpr", where) is not None), parses[0])
    answer_name, answers = _pick(chosen, "Answers", "answer")
    return Question(qid=qid, question=_text(text, text_name, where),
                    s_expression=_form(_pick(chosen, "SExpr", "sexpr")[1], "SExpr", where),
                    sparql_query=_text(_pick(chosen, "Sparql", "sparql")[1], "Sparql", where),
                    answer=[_answer(a, where) for a in _list(answers, answer_name, where)], source="webqsp")


# ---------------------------------------------------------------------------- writing and the bundled splits
def save_questions(questions: Iterable[Question], path: str | Path) -> None:
    """Write GrailQA-format json (a list of records)."""
    Path(path).write_text(json.dumps([q.to_json() for q in questions], indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def bundled_split_path(split: str) -> Path:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)} or give a question file (.json/.jsonl)")
    return data_dir() / "questions" / f"{split}.json"


def load_split(split: str, check_forms: bool = False) -> list[Question]:
    """A bundled train/dev/test set by name, or any GrailQA/WebQSP question file by path (e.g. for a full-Freebase endpoint)."""
    if split not in SPLITS and (Path(split).suffix in (".json", ".jsonl") or Path(split).exists()):
        return load_questions(split, check_forms)
    return load_questions(bundled_split_path(split), check_forms)


def sample_questions(questions: list[Question], n: int) -> list[Question]:
    """`n` questions spread evenly over the list (all when n <= 0 or n >= len): a deterministic subset."""
    if n <= 0 or n >= len(questions):
        return list(questions)
    step = len(questions) / n
    return [questions[int(i * step)] for i in range(n)]
