"""The package's layer order, lowest first: a module may import its own layer and lower ones, never a higher one.

tests/test_layers.py walks every import in the package (module level and inside functions) against this
table and also fails on any import cycle. A new top-level module or subpackage must be added here.
"""
from __future__ import annotations

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("errors", "fields", "notebook_params", "layers", "outputs", "policies")),  # no gapd_lite imports but errors
    ("kb", ("kb",)),  # the KB interface and its backends
    ("logic", ("logic",)),  # S-expressions, the action language, reference semantics, SPARQL, gold actions
    ("data", ("data",)),  # question splits and their loading
    ("env", ("env",)),  # the KBQA environment
    ("models", ("models", "logprobs")),  # models, tokenizers, LoRA/QLoRA; token log-probs under a model
    ("fast", ("fast",)),  # speed machinery (KV reuse, batched teacher), each piece tested equal to its reference
    ("agent", ("agent",)),  # prompts, rendering, trajectories, rollouts, the scripted gold agent
    ("anchors", ("anchors",)),  # mid-anchor matching
    ("training", ("training",)),  # rewards, losses, the GAPD update, SFT, the loop, checkpoints
    ("tools", ("cli", "cliflags", "eval", "paired", "experiment", "bench", "benchio", "gpu_bench", "demo", "viz", "widgets",
               "verify", "convert", "colab")),  # what people run; tools may import each other, but not in a cycle
)


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name under gapd_lite (the package itself is base), or None if the table lacks it."""
    parts = module.split(".")
    if parts[0] != "gapd_lite":
        return None
    if len(parts) == 1:
        return "base"
    return next((name for name, tops in LAYERS if parts[1] in tops), None)


def rank(layer: str) -> int:
    """Position of a layer in the order, 0 for the lowest."""
    return [name for name, _ in LAYERS].index(layer)
