"""Score an agent on a split: F1, Hits@1, exact match, valid-format rate and steps, by level and function."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .agent.rollout import RolloutConfig, rollout
from .agent.trajectory import Trajectory
from .data import Question
from .env.kbqa_env import EMPTY_ANSWER
from .kb.base import KB
from .outputs import write_text
from .training.rewards import exact_match, f1, hits_at_1


@dataclass(frozen=True)
class EpisodeScore:
    qid: str
    level: str | None
    function: str | None
    f1: float
    hits1: float
    em: float
    valid_turns: int
    turns: int
    answered: bool
    transcript: list[dict] = field(default_factory=list)  # per turn: what the agent wrote, what it was told
    problems: list[str] = field(default_factory=list)  # what went wrong on the way (see `problems`), for missed answers


TRANSCRIPT_CHARS = 300  # per text, so a report of hundreds of episodes stays readable


def _clip(text: str) -> str:
    return text if len(text) <= TRANSCRIPT_CHARS else text[:TRANSCRIPT_CHARS] + f"… (+{len(text) - TRANSCRIPT_CHARS} chars)"


@dataclass
class EvalReport:
    """Mean metrics overall and per level / per function, plus every episode's score."""
    overall: dict[str, float]
    by_level: dict[str, dict[str, float]]
    by_function: dict[str, dict[str, float]]
    misses: dict[str, int] = field(default_factory=dict)  # problem → how many missed episodes (F1 < 1) ran into it
    episodes: list[EpisodeScore] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        out = asdict(self)
        out["episodes"] = [asdict(e) for e in self.episodes]
        return out

    def save(self, path: str | Path) -> None:
        write_text(path, json.dumps(self.to_json(), indent=1) + "\n")


PROBLEMS = ("cut off at the turn budget", "no action", "malformed action", "unknown name", "empty result",
            "empty answer refused", "KB failure", "no answer", "wrong answer")


def problems(turns: Iterable[tuple[str, str, str | None]], answered: bool) -> list[str]:
    """The kinds of trouble an episode ran into (each once, in PROBLEMS order), from its (wrote, told, error)
    turns: why an answer was missed."""
    seen = set()
    for text, observation, error in turns:
        if error == "no action tag":
            seen.add("cut off at the turn budget" if "<action>" in text and "</action>" not in text else "no action")
        elif error and error.startswith("KB failure"):
            seen.add("KB failure")
        elif error and "does not exist" in error:
            seen.add("unknown name")
        elif error and EMPTY_ANSWER in error:
            seen.add("empty answer refused")
        elif error:
            seen.add("malformed action")
        elif "(empty:" in observation:
            seen.add("empty result")
    seen.add("wrong answer" if answered else "no answer")
    return [p for p in PROBLEMS if p in seen]


def score(traj: Trajectory) -> EpisodeScore:
    q = traj.question
    gold = q.answer_set
    valid = sum(1 for s in traj.steps if s.valid)
    transcript = [{"wrote": _clip(s.text), "told": _clip(s.observation), **({"error": s.error} if s.error else {})}
                  for s in traj.steps]
    score_f1 = f1(traj.answer, gold)
    return EpisodeScore(q.qid, q.level, q.function, score_f1, hits_at_1(traj.answer, gold),
                        exact_match(traj.answer, gold), valid, len(traj.steps), traj.answer is not None, transcript,
                        problems(((s.text, s.observation, s.error) for s in traj.steps), traj.answer is not None)
                        if score_f1 < 1 else [])


def _mean(scores: list[EpisodeScore]) -> dict[str, float]:
    n = len(scores) or 1
    turns = sum(s.turns for s in scores) or 1
    return {"n": len(scores), "f1": sum(s.f1 for s in scores) / n, "hits@1": sum(s.hits1 for s in scores) / n,
            "em": sum(s.em for s in scores) / n, "valid_format": sum(s.valid_turns for s in scores) / turns,
            "answered": sum(s.answered for s in scores) / n, "mean_steps": sum(s.turns for s in scores) / n}


def summarise(scores: list[EpisodeScore], meta: dict | None = None) -> EvalReport:
    by_level, by_fn = defaultdict(list), defaultdict(list)
    for s in scores:
        by_level[s.level or "-"].append(s)
        by_fn[s.function or "-"].append(s)
    misses = {p: sum(p in s.problems for s in scores) for p in PROBLEMS}
    return EvalReport(_mean(scores), {k: _mean(v) for k, v in sorted(by_level.items())},
                      {k: _mean(v) for k, v in sorted(by_fn.items())}, {p: n for p, n in misses.items() if n},
                      scores, meta or {})


def load_report(path: str | Path) -> EvalReport:
    """A saved report, summarised again from its episodes (so reports saved by older versions gain new fields)."""
    data = json.loads(Path(path).read_text())
    for e in data["episodes"]:
        if e["f1"] < 1 and not e.get("problems"):  # saved before problems were recorded: read them off the transcript
            e["problems"] = problems(((t["wrote"], t["told"], t.get("error")) for t in e.get("transcript", [])),
                                     e["answered"])
    return summarise([EpisodeScore(**e) for e in data["episodes"]], data.get("meta"))


def evaluate(model, tokenizer, kb: KB, questions: list[Question], config: RolloutConfig | None = None,
             progress: bool = True, meta: dict | None = None) -> EvalReport:
    """Greedy episodes on every question, scored."""
    config = config or RolloutConfig(greedy=True)
    trajs = rollout(model, tokenizer, kb, questions, config, progress=progress)
    return summarise([score(t) for t in trajs], meta)


def plot_report(reports: dict[str, EvalReport], path: str | Path | None = None, metric: str = "f1"):
    """Bars of one metric per level for several runs (e.g. zero-shot vs after SFT)."""
    import matplotlib.pyplot as plt

    levels = sorted({lvl for r in reports.values() for lvl in r.by_level})
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / max(len(reports), 1)
    for i, (name, rep) in enumerate(reports.items()):
        xs = [j + i * width for j in range(len(levels) + 1)]
        ys = [rep.by_level.get(lvl, {}).get(metric, 0.0) for lvl in levels] + [rep.overall[metric]]
        ax.bar(xs, ys, width=width, label=name)
    ax.set_xticks([j + width * (len(reports) - 1) / 2 for j in range(len(levels) + 1)], levels + ["overall"])
    ax.set_ylabel(metric)
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=120)
    return fig
