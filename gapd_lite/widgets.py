"""An episode stepper: ipywidgets buttons in a live notebook, a static table everywhere else (papermill, CI)."""
from __future__ import annotations

import html
import inspect
import textwrap
from typing import Sequence

from .env.kbqa_env import StepRecord
from .kb.base import KB
from .kb.terms import Literal


def _states_text(kb: KB, record: StepRecord, limit: int = 4) -> str:
    parts = []
    for i, state in enumerate(record.states):
        names = kb.names([t for t in list(state)[:limit] if isinstance(t, str)])
        shown = [t.lexical if isinstance(t, Literal) else names.get(t, t) for t in list(state)[:limit]]
        parts.append(f"#{i}: {len(state)} [{', '.join(map(str, shown))}{', …' if len(state) > limit else ''}]")
    return "; ".join(parts) or "(nothing bound yet)"


def step_html(kb: KB, steps: Sequence[StepRecord], index: int) -> str:
    """One step as HTML: the agent's text, the parsed action, the observation, the explored entity sets."""
    r = steps[index]
    action = html.escape(str(r.action)) if r.action else "<i>did not parse</i>"
    return (f"<b>step {index + 1}/{len(steps)}</b><br><b>agent:</b> <code>{html.escape(r.text)}</code><br>"
            f"<b>action:</b> <code>{action}</code><br><b>observation:</b> {html.escape(r.observation)}<br>"
            f"<b>explored:</b> {html.escape(_states_text(kb, r))}")


def episode_table(kb: KB, steps: Sequence[StepRecord]) -> str:
    """Every step as one HTML table (what papermill and static renderers show)."""
    rows = "".join(
        f"<tr><td>{i + 1}</td><td><code>{html.escape(str(r.action) if r.action else '—')}</code></td>"
        f"<td>{html.escape(r.observation[:160])}</td><td>{html.escape(_states_text(kb, r, 3))}</td></tr>"
        for i, r in enumerate(steps))
    return ("<table><tr><th>#</th><th>action</th><th>observation</th><th>explored entity sets</th></tr>"
            f"{rows}</table>")


def stepper(kb: KB, steps: Sequence[StepRecord]):
    """Next/previous buttons over an episode; also displays the full static table so nothing is lost offline."""
    from IPython.display import HTML, display

    display(HTML(episode_table(kb, steps)))
    try:
        import ipywidgets as w
    except ImportError:
        return None
    if not steps:
        return None
    pos = {"i": 0}
    view = w.HTML(step_html(kb, steps, 0))
    prev, nxt = w.Button(description="◀ previous"), w.Button(description="next ▶")

    def move(delta):
        def handler(_):
            pos["i"] = max(0, min(len(steps) - 1, pos["i"] + delta))
            view.value = step_html(kb, steps, pos["i"])
        return handler

    prev.on_click(move(-1))
    nxt.on_click(move(1))
    box = w.VBox([w.HBox([prev, nxt]), view])
    display(box)
    return box


def source_markdown(obj) -> str:
    """An object's source as a Markdown code block headed by its file and line, so a chapter shows what it runs."""
    lines, start = inspect.getsourcelines(obj)
    path = inspect.getmodule(obj).__name__.replace(".", "/") + ".py"
    return f"`{obj.__qualname__}` in `{path}`, line {start}:\n\n```python\n{textwrap.dedent(''.join(lines)).rstrip()}\n```"


def show_source(*objs) -> None:
    """Display the source of each function or class (Markdown in a notebook, plain text elsewhere), d2l style."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        get_ipython = None
    for obj in objs:
        text = source_markdown(obj)
        if get_ipython is not None and get_ipython() is not None:
            display(Markdown(text))
        else:
            print(text)
