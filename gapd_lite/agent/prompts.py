"""What the agent reads: the system prompt (its tools), the question turn, observations, and the teacher's hint.

Every conversation is turned into token ids by `render.py` through the model's own chat template, so
the same function serves rollouts, SFT and the GAPD teacher.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SYSTEM_PROMPT = """Answer questions about a knowledge base by calling one tool per turn.
Write <think>...</think>, then one call in <action>...</action>.
x is an entity (m.0abc), a variable #k or a value; r is a relation (^r walks it backwards).
get_relations(x): relations of x
get_neighbors(x, r): what x reaches through r; the result becomes #k
intersection(x, y); count(x)
get_attributes(x): the attributes (numbers, dates) of x, to name r in the next four tools
argmax(x, r) / argmin(x, r): largest / smallest r (r1/r2 chains relations)
lt(x, r, v) / le / gt / ge: keep members whose r is < / <= / > / >= v
filter_class(x, c): keep members of class c (each result lists its classes); get_instances(c): all members of c
time_filter(x, r, year): keep members whose period covers the year
answer(x): x is the final answer
Results come back in <information>...</information>."""

# Tokens one agent turn (thought + action) may generate. The longest gold turn of the bundled questions is 81
# SmolLM2 tokens (a long relation named in both the thought and the action); 64 cut off 26% of test questions'
# gold turns, so a policy could not even write the gold action. tests/test_env.py checks that all fit.
TURN_TOKENS = 96


@dataclass(frozen=True)
class Turn:
    """One agent turn and the observation the environment gave back."""
    text: str
    observation: str | None = None  # None for the final turn (nothing came back)


@dataclass(frozen=True)
class Task:
    """A question as the agent sees it: the text and the linked topic entities (mid → name)."""
    question: str
    entities: tuple[tuple[str, str], ...] = ()
    qid: str = ""

    def user_message(self) -> str:
        ents = "; ".join(f"{name} ({mid})" for mid, name in self.entities)
        return f"Question: {self.question}" + (f"\nEntities: {ents}" if ents else "")


@dataclass(frozen=True)
class PromptConfig:
    """System prompt and optional worked examples (few-shot) placed before the question."""
    system: str = SYSTEM_PROMPT
    few_shot: tuple[tuple[Task, tuple[Turn, ...]], ...] = field(default_factory=tuple)


def observation_message(observation: str) -> str:
    return f"<information>{observation}</information>"


def hint_message(gold_action: str) -> str:
    """The teacher's extra context in GAPD: the aligned gold action for the coming step."""
    return f"\nHint: a correct next action is <action>{gold_action}</action>"


def messages(task: Task, turns: list[Turn] | tuple[Turn, ...] = (), config: PromptConfig = PromptConfig(),
             hint: str | None = None) -> list[dict]:
    """The chat so far; with `hint`, the last user message also carries the gold action (teacher view)."""
    out = [{"role": "system", "content": config.system}]
    for example, example_turns in config.few_shot:
        out += _dialogue(example, example_turns)
    out += _dialogue(task, turns)
    if hint is not None:
        out[-1] = {"role": "user", "content": out[-1]["content"] + hint_message(hint)}
    return out


def _dialogue(task: Task, turns) -> list[dict]:
    out = [{"role": "user", "content": task.user_message()}]
    for turn in turns:
        out.append({"role": "assistant", "content": turn.text})
        if turn.observation is not None:
            out.append({"role": "user", "content": observation_message(turn.observation)})
    return out


def format_turn(thought: str, action: str) -> str:
    """The text of one well-formed agent turn."""
    return f"<think>{thought}</think>\n<action>{action}</action>"
