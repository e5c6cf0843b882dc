"""The scripted gold agent: plays a question's gold action sequence through the environment.

Its conversations (with the KB's real observations) are the SFT warm-start data, and it proves the
environment can solve every bundled question.
"""
from __future__ import annotations

from ..data import Question
from ..logic.actions import Action
from ..errors import EndpointError
from ..env.kbqa_env import EnvConfig, KBQAEnv
from ..kb.base import KB
from ..kb.terms import Literal
from ..logic.sexpr import entities as sexpr_entities, parse
from ..logic.to_actions import explore_first, to_actions
from .prompts import Task, Turn, format_turn
from .render import render_dialogue
from .trajectory import Trajectory


def task_for(question: Question, kb: KB) -> Task:
    """The question with its topic entities linked (gold entity linking, as agentic KBQA setups give it)."""
    mids = list(dict.fromkeys(sexpr_entities(parse(question.s_expression)))) if question.s_expression else []
    try:
        names = kb.names(mids)
    except EndpointError:  # the env will report the failure on its first KB call; ids stand in for names
        names = {}
    return Task(question.question, tuple((m, names.get(m, m)) for m in mids), question.qid)


def _arg(a) -> str:
    return a.to_action() if isinstance(a, Literal) else str(a)


def thought_for(action: Action) -> str:
    """A one-line reason for a gold action, so SFT teaches the think-then-act format."""
    a = [_arg(x) for x in action.args]
    return {
        "get_relations": lambda: f"I look at the relations of {a[0]}.",
        "get_neighbors": lambda: f"I follow {a[1]} from {a[0]}.",
        "intersection": lambda: f"I keep what {a[0]} and {a[1]} share.",
        "get_attributes": lambda: f"I look at the attributes of {a[0]}.",
        "argmax": lambda: f"I pick the member of {a[0]} with the largest {a[1]}.",
        "argmin": lambda: f"I pick the member of {a[0]} with the smallest {a[1]}.",
        "count": lambda: f"I count {a[0]}.",
        "lt": lambda: f"I keep those whose {a[-2]} is below {a[-1]}.",
        "le": lambda: f"I keep those whose {a[-2]} is at most {a[-1]}.",
        "gt": lambda: f"I keep those whose {a[-2]} is above {a[-1]}.",
        "ge": lambda: f"I keep those whose {a[-2]} is at least {a[-1]}.",
        "filter_class": lambda: f"I keep the members of {a[1]}.",
        "get_instances": lambda: f"I start from every {a[0]}.",
        "time_filter": lambda: f"I keep those valid in {a[2]}.",
        "answer": lambda: f"{a[0]} answers the question.",
    }[action.name]()


def gold_episode(question: Question, kb: KB, config: EnvConfig | None = None,
                 explore: bool = True) -> tuple[list[Turn], KBQAEnv]:
    """Play the gold actions (with `explore`, a get_relations before each topic entity's first hop);
    returns the turns (with observations) and the finished environment."""
    actions = to_actions(parse(question.s_expression))
    if explore:
        actions = explore_first(actions)
    config = config or EnvConfig(max_turns=max(len(actions), EnvConfig().max_turns))
    env = KBQAEnv(kb, question.question, dict(task_for(question, kb).entities), config)
    turns = []
    for action in actions:
        text = format_turn(thought_for(action), str(action))
        record = env.step(text)
        turns.append(Turn(text, None if env.done else record.observation))
        if env.done:
            break
    return turns, env


def gold_trajectory(tokenizer, question: Question, kb: KB) -> Trajectory:
    """The gold agent's episode as a rendered Trajectory (ids, mask, action spans, env history)."""
    turns, env = gold_episode(question, kb)
    task = task_for(question, kb)
    return Trajectory(task, render_dialogue(tokenizer, task, turns), env.history, env.answer, question, 0)
