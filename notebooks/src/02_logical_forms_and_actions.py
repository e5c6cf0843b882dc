# %% [markdown]
# # 02 · Logical forms, SPARQL and gold actions
#
# Each bundled question carries a **GrailQA S-expression**. GAPD's first piece turns it into the
# **gold action sequence** an agent could have typed; executing those actions in order gives the
# **gold states** (entity sets) that mid-anchor matching later compares with the student's states.
#
# `S-expression → parse → (SPARQL | actions) → execute` — all three must reach the same answers.

# %% tags=["parameters"]
smoke = False
qid = None  # pick a question by id, or leave None for one of each function

# %%
from gapd_lite.notebook_params import OPTIONAL_STR, check_params

check_params(globals(), smoke=bool, qid=OPTIONAL_STR)  # a wrong parameter stops here, with the fix

# %%
import matplotlib.pyplot as plt

from gapd_lite.data import load_split
from gapd_lite.kb import open_kb
from gapd_lite.logic.execute import execute
from gapd_lite.logic.sexpr import function_of, parse, to_sexpr
from gapd_lite.logic.to_actions import gold_steps, to_actions
from gapd_lite.logic.to_sparql import to_sparql
from gapd_lite.errors import ConfigError
from gapd_lite.kb.terms import display
from gapd_lite.widgets import show_source
from gapd_lite import viz

kb = open_kb("memory")
dev = load_split("dev")
if qid:
    picked = [q for q in dev if q.qid == qid]
    if not picked:
        raise ConfigError(f"notebook parameter qid={qid!r} is not a dev question id, e.g. {dev[0].qid!r}")
else:
    by_function = {}
    for q in dev:
        by_function.setdefault(function_of(parse(q.s_expression)), q)
    picked = list(by_function.values())[: 2 if smoke else None]
[(q.qid, q.function, q.question) for q in picked]

# %% [markdown]
# ## Parse and print: an exact round trip
# The parser builds a typed tree; printing it gives back the very same string.

# %%
q = picked[0]
tree = parse(q.s_expression)
print(q.question)
print(q.s_expression)
assert to_sexpr(tree) == q.s_expression
tree

# %%
viz.draw_logical_form(tree)
plt.show()

# %% [markdown]
# ## The SPARQL translation
# Standard SPARQL 1.1 in Freebase's `ns:` form, the same text a Virtuoso with the full Freebase accepts.

# %%
print(to_sparql(tree))

# %% [markdown]
# ## The action compiler
# `to_actions` walks the tree once: a constant stands for itself, every other sub-expression becomes one action
# that binds the next variable `#k` (`_Compiler.var` holds one line per operator), and `answer(#k)` ends the program.

# %%
from gapd_lite.logic.to_actions import _Compiler

show_source(to_actions, _Compiler.var)
for action in to_actions(tree):
    print(action)

# %% [markdown]
# ## Gold actions and gold states, step by step
# Each set-producing action binds the next variable `#k`. The state column is what GAPD's anchors are made of.

# %%
def show(question):
    tree = parse(question.s_expression)
    print(f"Q: {question.question}\n   {question.s_expression}")
    for step in gold_steps(to_actions(tree), kb):
        names = kb.names([t for t in step.state if isinstance(t, str)])
        items = sorted(display(t, names) for t in step.state)
        label = f"#{step.var}" if step.var is not None else "  "
        print(f"   {label:>3} {str(step.action):<70} {len(items):>4} → {items[:3]}")
    print()

for question in picked:
    show(question)

# %% [markdown]
# ## Three routes, one answer
# The reference executor, the SPARQL on pyoxigraph, and the gold actions agree (the test-suite and
# `gapd-lite verify-data` check this for every bundled question on every backend).

# %%
from gapd_lite.data import answer_key
from gapd_lite.logic.execute import run_actions

oxi = open_kb("oxigraph")
for question in picked:
    tree = parse(question.s_expression)
    routes = {"S-expression": execute(tree, kb), "SPARQL (oxigraph)": oxi.run_query(to_sparql(tree)),
              "actions": run_actions(kb, to_actions(tree))[1]}
    keys = {name: frozenset(answer_key(t) for t in got) for name, got in routes.items()}
    print(f"{question.function:>6}: agree={len(set(keys.values())) == 1}, matches stored={keys['actions'] == question.answer_set}")

# %% [markdown]
# ## Bad input gets a clear error
# Truncated forms, unknown operators, bad literals — each raises the package's own error pointing at the spot.

# %%
from gapd_lite.errors import GapdError

for bad in ["(AND location.country (JOIN location.country.capital m.0abc)",
            "(JION location.country.capital m.0abc)",
            "(JOIN location.location.area big^^http://www.w3.org/2001/XMLSchema#float)"]:
    try:
        parse(bad)
    except GapdError as err:
        print(f"{type(err).__name__}: {err}\n")
