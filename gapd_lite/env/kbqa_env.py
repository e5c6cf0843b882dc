"""One KBQA episode: the agent writes a thought and one action per turn, the KB answers with an observation.

Model text is untrusted: it is parsed (never evaluated) and every problem — no action tag, a call
that does not parse, an unknown relation, an undefined variable, an empty or oversize result —
becomes a short observation the agent can recover from. Each step records what mid-anchor matching
needs: the action, the variable it bound, and every entity set the agent holds so far.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..errors import ActionError, ConfigError, EndpointError, GapdError, require_positive
from ..fields import h
from ..kb.base import KB
from ..kb.terms import Literal, Term, term_sort_key
from ..logic.execute import answer_of_actions, run_action
from ..logic.temporal import check_semantics, is_time_macro
from ..logic.actions import Action, RelPath, Var, parse_action
from .relevance import rank_classes, rank_relations

ACTION_RE = re.compile(r"<action>(.*?)</action>", re.S)
TYPE = "type.object.type"
CLASSES = "; classes: "  # after a bound set's members; bench_ranking reads the list back off the observation
EMPTY_ANSWER = "an answer needs at least one entity or value"  # eval.problems counts this refusal on its own


@dataclass(frozen=True)
class EnvConfig:
    """Episode limits and how much of a long result the agent gets to read."""
    max_turns: int = h("actions an episode may take before it is cut off", 8)
    max_listed: int = h("entities or values shown per observation", 8)
    max_relations: int = h("relations shown by get_relations / get_attributes", 40)
    max_set_size: int = h("larger results are refused instead of bound", 20_000)
    rank_relations: bool = h("list relations by overlap with the question's words (env/relevance.py)", True)
    allow_empty_answer: bool = h("False: answering an empty set is an error observation, not the end", False)
    max_classes: int = h("classes listed after a bound entity set, so filter_class can copy one (0: none)", 5)
    class_sample: int = h("members whose classes are counted (the first ones in sorted order)", 20)
    semantics: str = h("whose conventions the answer follows: default (the package's), grailqa or webqsp "
                       "(the official queries': use these when scoring against official answers)", "default")

    def __post_init__(self) -> None:
        require_positive(self, "max_turns", "max_listed", "max_relations", "max_set_size", "class_sample")
        if not (isinstance(self.max_classes, int) and self.max_classes >= 0):
            raise ConfigError(f"EnvConfig.max_classes={self.max_classes!r}: a number of classes >= 0 (0: list none)")
        check_semantics(self.semantics)


@dataclass(frozen=True)
class StepRecord:
    """One turn: the raw text, the parsed action (None if it did not parse), the observation shown."""
    text: str
    action: Action | None
    observation: str
    error: str | None = None
    var: int | None = None  # the variable this step bound
    states: tuple[frozenset[Term], ...] = ()  # every variable's entity set after the step

    @property
    def valid(self) -> bool:
        return self.action is not None and self.error is None


@dataclass
class KBQAEnv:
    """An episode over one question; `step` takes the model's turn text and returns the observation."""
    kb: KB
    question: str
    entities: dict[str, str] = field(default_factory=dict)  # mid → name given to the agent
    config: EnvConfig = field(default_factory=EnvConfig)
    bindings: list[frozenset[Term]] = field(default_factory=list)
    history: list[StepRecord] = field(default_factory=list)
    answer: frozenset[Term] | None = None
    done: bool = False
    failed: str | None = None  # set when the KB itself failed (endpoint down after retries): not the agent's fault

    @property
    def steps(self) -> int:
        return len(self.history)

    def step(self, text: str) -> StepRecord:
        """Execute the last `<action>…</action>` in `text` and record the turn."""
        if self.done:
            raise GapdError("the episode is over: start a new KBQAEnv for the next question")
        found = ACTION_RE.findall(text or "")
        if not found:
            record = self._record(text, None, "Error: no <action>…</action> found. Write exactly one action, "
                                  "e.g. <action>get_relations(m.0abc)</action>.", error="no action tag")
        else:
            try:
                record = self._execute(text, found[-1].strip())
            except EndpointError as exc:  # infrastructure, not the agent: end the episode and say so
                self.failed, self.done = str(exc), True
                return self._record(text, None, "Error: the knowledge base did not answer; the episode stops here.",
                                    error=f"KB failure: {exc}")
        if not self.done and self.steps >= self.config.max_turns:
            self.done = True
        return record

    # ---- internals ------------------------------------------------------------------------------
    def _record(self, text: str, action: Action | None, observation: str, error: str | None = None,
                var: int | None = None) -> StepRecord:
        record = StepRecord(text, action, observation, error, var, tuple(self.bindings))
        self.history.append(record)
        return record

    def _execute(self, text: str, call: str) -> StepRecord:
        try:
            action = parse_action(call)
        except ActionError as exc:
            return self._record(text, None, f"Error: {exc}", error=str(exc))
        problem = self._unknown_names(action)
        if problem:
            return self._record(text, action, f"Error: {problem}", error=problem)
        try:
            result = run_action(self.kb, action, self.bindings)
        except EndpointError:
            raise
        except GapdError as exc:
            return self._record(text, action, f"Error: {exc}", error=str(exc))
        if action.name in ("get_relations", "get_attributes"):
            return self._record(text, action, self._list_relations(action, result))
        if action.name == "answer":
            if self.config.semantics != "default":  # the official answer of the program written so far
                done = [r.action for r in self.history if r.var is not None] + [action]
                result = answer_of_actions(self.kb, done, self.config.semantics)
            if not result and not self.config.allow_empty_answer:  # KBQA answers are never empty: let it recover
                msg = f"{action.args[0]} is empty and {EMPTY_ANSWER}; try another relation, direction or class"
                return self._record(text, action, f"Error: {msg}", error=msg)
            self.answer, self.done = result, True
            return self._record(text, action, f"Answer: {self._show(result)}")
        if len(result) > self.config.max_set_size:
            msg = (f"{action.name} gave {len(result):,} results, more than the {self.config.max_set_size:,} "
                   "allowed; start from an entity or add a constraint")
            return self._record(text, action, f"Error: {msg}", error=msg)
        var = len(self.bindings)
        self.bindings.append(result)
        after = " (empty: try another relation or direction)" if not result else self._classes(result)
        return self._record(text, action, f"#{var} = {self._show(result)}{after}", var=var)

    def _unknown_names(self, action: Action) -> str | None:
        """A message for relations/classes/entities the KB does not have (cheaper and clearer than an empty set)."""
        for arg in action.args:
            if isinstance(arg, RelPath):
                for name, _ in arg.steps:
                    if not self.kb.knows(name, "relation") and not is_time_macro(name):
                        return f"relation {name} does not exist; use get_relations to see the valid ones"
            elif isinstance(arg, str) and not isinstance(arg, Var) and arg != "NOW":
                kind = "entity" if arg.startswith(("m.", "g.")) else "class"
                if not self.kb.knows(arg, kind):
                    return f"{kind} {arg} does not exist in the KB"
        return None

    def _show(self, terms: frozenset[Term]) -> str:
        items = sorted(terms, key=term_sort_key)
        shown = items[: self.config.max_listed]
        names = self.kb.names([t for t in shown if isinstance(t, str)])
        parts = [t.lexical if isinstance(t, Literal) else f"{names[t]} ({t})" if t in names else t for t in shown]
        more = f", … (+{len(items) - len(shown)} more)" if len(items) > len(shown) else ""
        noun = "value" if items and all(isinstance(t, Literal) for t in items) else "entity"
        if len(items) != 1:
            noun = {"value": "values", "entity": "entities"}[noun]
        return f"{len(items)} {noun}: [{', '.join(parts)}{more}]" if items else f"0 {noun}"

    def _classes(self, terms: frozenset[Term]) -> str:
        """'; classes: [...]' of the set's members, so that filter_class can name a class that exists."""
        if not self.config.max_classes:
            return ""
        members = sorted((t for t in terms if isinstance(t, str)), key=term_sort_key)[: self.config.class_sample]
        counts = Counter(c for found in self.kb.values(members, ((TYPE, True),)).values()
                         for c in found if isinstance(c, str) and c != "common.topic")
        shown = rank_classes(counts, self.question)[: self.config.max_classes]
        return f"{CLASSES}[{', '.join(shown)}]" if shown else ""

    def _list_relations(self, action: Action, rels: list[str]) -> str:
        if self.config.rank_relations:
            rels = rank_relations(rels, self.question)
        shown = rels[: self.config.max_relations]
        more = f", … (+{len(rels) - len(shown)} more)" if len(rels) > len(shown) else ""
        what = "relations" if action.name == "get_relations" else "attributes"
        return f"{what} of {action.args[0]}: [{', '.join(shown)}{more}]" if rels else f"no {what} found for {action.args[0]}"

    @property
    def explored(self) -> tuple[frozenset[Term], ...]:
        """Every entity set the agent has bound so far (what mid-anchor matching compares)."""
        return tuple(self.bindings)
