"""Question sets: read and write GrailQA json/jsonl and WebQSP json (original or with SExpr), and splits."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import DataError
from .kb.io import data_dir
from .kb.terms import Literal, Term

LEVELS = ("i.i.d.", "compositional", "zero-shot")
SPLITS = ("train", "dev", "test")


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
def _records(path: Path) -> Any:
    if not path.exists():
        raise DataError(f"question file not found: {path}")
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        raise DataError(f"{path} is empty: expected GrailQA json/jsonl or WebQSP json")
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if n == 1:
                    raise DataError(f"{path} is neither JSON nor JSON lines ({first.msg} at line {first.lineno}); "
                                    "expected GrailQA json/jsonl or WebQSP json") from None
                raise DataError(f"{path}: line {n} is not valid JSON ({exc.msg}); fix or remove that line") from None
        return rows


def load_questions(path: str | Path) -> list[Question]:
    """Read GrailQA json/jsonl, original WebQSP json, or WebQSP-style records carrying an S-expression."""
    path = Path(path)
    data = _records(path)
    if isinstance(data, dict) and "Questions" in data:
        records, fmt = data["Questions"], "webqsp"
        if not isinstance(records, list):
            raise DataError(f'{path}: "Questions" is {type(records).__name__}; WebQSP json has a list of questions there')
    elif isinstance(data, dict):
        records, fmt = [data], None
    elif isinstance(data, list):
        records, fmt = data, None
    else:
        raise DataError(f"{path}: top level is {type(data).__name__}; expected a list of questions or WebQSP's "
                        '{"Questions": [...]}')
    out = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise DataError(f"{path}: record {i} is {type(rec).__name__}, not an object")
        kind = fmt or ("webqsp" if ("QuestionId" in rec or "Parses" in rec or "RawQuestion" in rec) else "grailqa")
        out.append(_from_webqsp(rec, i, path) if kind == "webqsp" else _from_grailqa(rec, i, path))
    return out


def iter_records(path: str | Path) -> Iterator[tuple[int, Question | DataError]]:
    """Like load_questions, but one bad record yields a DataError in its place instead of stopping.

    The file itself is read (and a missing or unreadable file reported) before the first item.
    """
    path = Path(path)
    data = _records(path)
    records = data["Questions"] if isinstance(data, dict) and "Questions" in data else data if isinstance(data, list) else [data]
    if not isinstance(records, list):
        raise DataError(f'{path}: "Questions" is {type(records).__name__}; WebQSP json has a list of questions there')
    return _iter_records(records, isinstance(data, dict) and "Questions" in data, path)


def _iter_records(records: list, webqsp: bool, path: Path) -> Iterator[tuple[int, Question | DataError]]:
    for i, rec in enumerate(records):
        try:
            if not isinstance(rec, dict):
                raise DataError(f"record {i} is {type(rec).__name__}, not an object")
            is_web = webqsp or "QuestionId" in rec or "Parses" in rec or "RawQuestion" in rec
            yield i, (_from_webqsp(rec, i, path) if is_web else _from_grailqa(rec, i, path))
        except DataError as exc:
            yield i, exc


def _from_grailqa(rec: dict, i: int, path: Path) -> Question:
    qid = rec.get("qid", rec.get("ID", rec.get("id")))
    text = rec.get("question", rec.get("ProcessedQuestion", rec.get("RawQuestion")))
    if qid is None or text is None:
        raise DataError(f"{path}: record {i} has no qid/question field; GrailQA records need both")
    answers = [_answer(a, path, i) for a in rec.get("answer", rec.get("answers", rec.get("Answers", []))) or []]
    sexpr = rec.get("s_expression", rec.get("SExpr", rec.get("sexpr")))
    return Question(
        qid=str(qid), question=str(text), s_expression=None if sexpr in (None, "null", "") else str(sexpr),
        sparql_query=rec.get("sparql_query", rec.get("sparql", rec.get("Sparql"))), answer=answers,
        function=rec.get("function"), level=rec.get("level"), domains=list(rec.get("domains", []) or []),
        num_node=rec.get("num_node"), num_edge=rec.get("num_edge"), source="grailqa")


def _answer(a: Any, path: Path, i: int) -> Answer:
    if isinstance(a, str):
        return Answer("Entity" if a.startswith(("m.", "g.")) else "Value", a)
    if not isinstance(a, dict):
        raise DataError(f"{path}: record {i} has an answer that is neither an object nor a string")
    arg = a.get("answer_argument", a.get("AnswerArgument"))
    if arg is None:
        raise DataError(f"{path}: record {i} has an answer without answer_argument")
    return Answer(str(a.get("answer_type", a.get("AnswerType", "Entity"))), str(arg),
                  a.get("entity_name", a.get("EntityName")))


def _from_webqsp(rec: dict, i: int, path: Path) -> Question:
    qid = rec.get("QuestionId", rec.get("ID"))
    text = rec.get("ProcessedQuestion", rec.get("RawQuestion", rec.get("question")))
    if qid is None or text is None:
        raise DataError(f"{path}: WebQSP record {i} has no QuestionId/ProcessedQuestion")
    parses = rec.get("Parses") or [rec]
    chosen = next((p for p in parses if p.get("SExpr", p.get("sexpr")) not in (None, "null", "")), parses[0])
    sexpr = chosen.get("SExpr", chosen.get("sexpr"))
    answers = [_answer(a, path, i) for a in chosen.get("Answers", chosen.get("answer", [])) or []]
    return Question(qid=str(qid), question=str(text), s_expression=None if sexpr in (None, "null", "") else str(sexpr),
                    sparql_query=chosen.get("Sparql", chosen.get("sparql")), answer=answers, source="webqsp")


# ---------------------------------------------------------------------------- writing and the bundled splits
def save_questions(questions: Iterable[Question], path: str | Path) -> None:
    """Write GrailQA-format json (a list of records)."""
    Path(path).write_text(json.dumps([q.to_json() for q in questions], indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def bundled_split_path(split: str) -> Path:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)} or give a question file (.json/.jsonl)")
    return data_dir() / "questions" / f"{split}.json"


def load_split(split: str) -> list[Question]:
    """A bundled train/dev/test set by name, or any GrailQA/WebQSP question file by path (e.g. for a full-Freebase endpoint)."""
    if split not in SPLITS and (Path(split).suffix in (".json", ".jsonl") or Path(split).exists()):
        return load_questions(split)
    return load_questions(bundled_split_path(split))


def sample_questions(questions: list[Question], n: int) -> list[Question]:
    """`n` questions spread evenly over the list (all when n <= 0 or n >= len): a deterministic subset."""
    if n <= 0 or n >= len(questions):
        return list(questions)
    step = len(questions) / n
    return [questions[int(i * step)] for i in range(n)]
