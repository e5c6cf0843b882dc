"""Run configs in the style of TRL's `SFTConfig`/`GRPOConfig`: one dataclass per method, a help string per field,
and one registry of named presets keyed by (method, name). The CLI builds its flags from these fields."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from ..agent.prompts import TURN_TOKENS
from ..errors import ConfigError, require_positive
from ..fields import h
from ..models import ModelConfig

METHODS = ("sft", "grpo", "gapd")
MATCHERS = ("mid_anchor", "prefix")
DIVERGENCES = ("forward_kl", "reverse_kl", "jsd")
LAM_SCHEDULES = ("constant", "linear_decay", "warmup")
DISTILL_TOKENS = ("all", "until_disagreement")
GUIDANCE = ("kl", "advantage")
FOCUS = ("all", "sparse")
SPARSE_FUNCTIONS = ("<", "<=", ">", ">=", "TC", "argmin", "count")  # where outcome reward is mostly silent


@dataclass(frozen=True)
class TrainConfig:
    """What every method shares: model, optimisation, data, budget and bookkeeping."""
    method: str = h("sft (supervised warm start), grpo (outcome reward only) or gapd (GRPO + gold-action "
                    "distillation)", "sft", METHODS)
    model: ModelConfig = h("the base model and its LoRA/QLoRA adapter", factory=ModelConfig)
    out_dir: str = h("run folder: config, log.jsonl, checkpoints, final/; rerunning resumes from its last checkpoint",
                     "runs/sft")
    num_updates: int = h("optimizer updates of the whole run", 100)
    batch_size: int = h("questions (RL) or gold dialogues (SFT) per micro-batch", 4)
    grad_accum: int = h("micro-batches whose gradients add up to one update", 1)
    lr: float = h("peak learning rate of the warm-up + cosine schedule (decays to 10% of it)", 2e-4)
    warmup_updates: int = h("linear warm-up length in updates", 10)
    weight_decay: float = h("AdamW weight decay", 0.0)
    max_grad_norm: float = h("gradient-norm clip", 1.0)
    max_tokens: int = h("longest gold dialogue (tokens) that SFT, or the sft_weight ablation, trains on", 1024)
    seed: int = h("seeds data order, sampling and the LoRA initialisation", 0)
    save_every: int = h("updates between checkpoints", 25)
    log_every: int = h("updates between log.jsonl records", 1)
    keep_checkpoints: int = h("checkpoints kept on disk (older ones are deleted)", 2)
    questions: str = h("train | dev | test (bundled splits) or a GrailQA/WebQSP question file", "train")
    max_questions: int | None = h("use only the first N questions (None: all)", None)
    init_adapter: str | None = h("start from a saved LoRA adapter (e.g. the SFT result, or a bundled name: sft)", None)
    max_minutes: float | None = h("wall-clock budget: the cosine is fitted to end when it runs out, and the run stops "
                                  "cleanly (checkpoint + final adapter) once it is spent", None)
    focus: str = h("all questions, or sparse: those whose function a warm start rarely solves (comparisons, time "
                   "constraints, argmin, count) plus as many plain ones, so the action format does not drift",
                   "all", FOCUS)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"method={self.method!r}: choose one of {', '.join(METHODS)}")
        require_positive(self, "num_updates", "batch_size", "grad_accum", "max_tokens", "save_every", "log_every",
                         "keep_checkpoints")
        if not (isinstance(self.lr, (int, float)) and 0 < self.lr < 1):
            raise ConfigError(f"{type(self).__name__}.lr={self.lr!r}: must be a number in (0, 1), e.g. 2e-4")
        if self.warmup_updates < 0 or not self.max_grad_norm > 0:
            raise ConfigError("warmup_updates must be >= 0 and max_grad_norm > 0")
        if self.max_minutes is not None and not (self.max_minutes > 0 and math.isfinite(self.max_minutes)):
            raise ConfigError(f"max_minutes={self.max_minutes!r}: must be a positive number of minutes or None")
        if self.focus not in FOCUS:
            raise ConfigError(f"focus={self.focus!r}: choose one of {', '.join(FOCUS)}")
        if self.max_questions is not None and self.max_questions < 1:
            raise ConfigError(f"max_questions={self.max_questions!r}: must be a positive integer or None")

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SFTConfig(TrainConfig):
    """Supervised warm start on gold dialogues (gold actions played through the env, real KB observations)."""
    function_repeat: int = h("each question with a function (count, superlative, comparison, time) is seen this "
                             "often per epoch", 1)
    one_at_a_time: bool | None = h("fast path: the loss one dialogue at a time (no pads, the shared system prompt run "
                                   "once); None: on a CPU only (a GPU batches)", None)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.method != "sft":
            raise ConfigError(f"SFTConfig.method={self.method!r}: an SFTConfig trains with method 'sft'")
        require_positive(self, "function_repeat")


@dataclass(frozen=True)
class GAPDConfig(TrainConfig):
    """GRPO (λ = 0) or GAPD (λ > 0) from a warm start: G sampled episodes per question, group advantages, and the
    gold-hinted policy distilled into the plain one over the student's action tokens."""
    method: str = h("grpo (λ = 0) or gapd (λ > 0)", "gapd", ("grpo", "gapd"))
    group_size: int = h("G: sampled episodes per question; GRPO compares them", 4)
    lam: float = h("λ: weight of the distillation term; 0 is plain GRPO", 0.5)
    guidance: str = h("how the hinted teacher guides: kl (L_GRPO + λ·L_distill) or advantage (λ · the clipped per-token "
                      "gap log π_teacher − log π_student added to the GRPO advantage on action tokens)", "kl", GUIDANCE)
    shaping_clip: float = h("guidance=advantage: the per-token gap is clipped to [−c, c]", 1.0)
    lam_schedule: str = h("constant | linear_decay (λ → 0 at the last update) | warmup (0 → λ over the first 20%)",
                          "constant", LAM_SCHEDULES)
    divergence: str = h("D(teacher ‖ student) per action token: forward_kl, reverse_kl or jsd", "forward_kl",
                        DIVERGENCES)
    jsd_beta: float = h("β of the generalized JSD (divergence=jsd)", 0.5)
    distill_tokens: str = h("all action tokens, or each action up to the teacher's first other choice",
                            "all", DISTILL_TOKENS)
    matcher: str = h("mid_anchor (entity-set anchors, robust to detours) or prefix (the ablation)", "mid_anchor",
                     MATCHERS)
    explore: bool = h("the gold program looks at a topic entity's relations before its first hop, as the SFT data does",
                      True)
    jaccard: float = h("< 1: a gold state counts as reached by a student set with Jaccard ≥ this", 1.0)
    epsilon: float = h("ε of GRPO's clipped surrogate", 0.2)
    temperature: float = h("sampling temperature of the rollouts", 1.0)
    top_p: float = h("nucleus sampling of the rollouts", 1.0)
    max_new_tokens: int = h("tokens one turn may generate", TURN_TOKENS)
    max_turns: int = h("turns (actions) an episode may take", 6)
    format_bonus: float = h("reward for each well-formed action, added to the answer's F1", 0.1)
    sft_weight: float = h("ablation: + w × the SFT loss on the gold dialogue ('gold only as supervised data')", 0.0)
    reference_update: bool = h("run the plain reference update (`training/gapd.py`, reads like the paper; slower) "
                               "instead of the fast path below", False)
    teacher_cache: bool = h("fast path: the teacher continues from the student's prefix KV cache instead of a full "
                            "forward per step (same logits, tested)", True)
    teacher_batch: int = h("fast path: distilled steps whose teacher forwards run together (1: one at a time)", 8)
    update_chunk: int = h("fast path: trajectories per forward/backward, so one chunk's activations are alive "
                          "(same loss and gradient; 0: the whole batch at once)", 0)
    rollout_batch: int = h("episodes generated together (a GPU takes an update's G × questions at once)", 8)
    heldout_every: int = h("every N updates, log the mean log-probability the policy gives the gold action tokens of "
                           "held-out (dev) gold dialogues: a dense measure where rewards are silent (0: never)", 0)
    heldout_questions: int = h("dev questions of that held-out measure", 16)
    merged_generation: bool = h("roll out from a merged 16-bit copy of the policy (fast on a GPU with a 4-bit base)",
                                False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.method not in ("grpo", "gapd"):
            raise ConfigError(f"GAPDConfig.method={self.method!r}: choose grpo or gapd (sft has its own SFTConfig)")
        if self.group_size < 2:
            raise ConfigError("group_size must be at least 2: GRPO compares rollouts of the same question")
        if self.lam < 0 or self.sft_weight < 0:
            raise ConfigError("lam and sft_weight must be >= 0")
        if self.method == "grpo" and self.lam != 0:
            raise ConfigError(f"GRPO means λ = 0 (got lam={self.lam}); use method gapd for a distillation weight")
        if not self.shaping_clip > 0:
            raise ConfigError(f"shaping_clip={self.shaping_clip!r}: must be > 0")
        for name, allowed in (("lam_schedule", LAM_SCHEDULES), ("divergence", DIVERGENCES), ("guidance", GUIDANCE),
                              ("distill_tokens", DISTILL_TOKENS), ("matcher", MATCHERS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name}={getattr(self, name)!r}: choose one of {', '.join(allowed)}")
        require_positive(self, "max_new_tokens", "max_turns", "rollout_batch", "teacher_batch", "heldout_questions")
        if self.heldout_every < 0:
            raise ConfigError(f"heldout_every={self.heldout_every}: a number of updates >= 0 (0: never)")
        if self.update_chunk < 0:
            raise ConfigError(f"update_chunk={self.update_chunk}: must be >= 0 (0 = the whole batch at once)")
        if not (self.temperature > 0 and 0 < self.top_p <= 1):
            raise ConfigError("sampling needs temperature > 0 and 0 < top_p <= 1")

    def lam_at(self, update: int) -> float:
        """λ at `update` under the schedule."""
        if self.lam_schedule == "linear_decay":
            return self.lam * (1 - update / max(1, self.num_updates))
        if self.lam_schedule == "warmup":
            return self.lam * min(1.0, update / max(1, 0.2 * self.num_updates))
        return self.lam


CONFIGS: dict[str, type[TrainConfig]] = {"sft": SFTConfig, "grpo": GAPDConfig, "gapd": GAPDConfig}

_CPU_MODEL = ModelConfig(lora_dropout=0.0)  # no dropout on CPU: its random masks took a fifth of an update

PRESETS: dict[tuple[str, str], TrainConfig] = {
    # a few updates on the tiny random model: what tests and the notebooks' smoke mode run
    ("sft", "smoke"): SFTConfig(model=ModelConfig(name="tiny"), out_dir="runs/sft-smoke", num_updates=4,
                                batch_size=2, save_every=2, warmup_updates=1, max_questions=16),
    # the embedded SmolLM2-135M with LoRA on 2 CPU cores in ≤ 30 minutes; each function question twice;
    # max_tokens 1400 keeps 99% of the training dialogues
    ("sft", "cpu-small"): SFTConfig(model=_CPU_MODEL, out_dir="runs/sft-cpu-small", num_updates=84, lr=1e-3,
                                    warmup_updates=8, save_every=21, max_tokens=1400, function_repeat=2,
                                    max_minutes=28.5),
    # the bundled SFT policy: the same recipe, longer, resumable over hours in the background
    ("sft", "cpu-long"): SFTConfig(model=_CPU_MODEL, out_dir="runs/sft-cpu-long", num_updates=480, lr=6e-4,
                                   warmup_updates=10, save_every=10, max_tokens=1400, function_repeat=3),
    # one consumer GPU (QLoRA when CUDA is there): more data, longer
    ("sft", "gpu-small"): SFTConfig(out_dir="runs/sft-gpu-small", num_updates=300, batch_size=8, lr=3e-4,
                                    warmup_updates=15, save_every=100, max_tokens=1400, function_repeat=2),
}
for _method, _lam in (("grpo", 0.0), ("gapd", 0.5)):
    PRESETS[(_method, "smoke")] = GAPDConfig(
        method=_method, lam=_lam, model=ModelConfig(name="tiny"), out_dir=f"runs/{_method}-smoke", num_updates=2,
        batch_size=2, lr=1e-4, warmup_updates=0, save_every=1, max_questions=8, group_size=2, max_new_tokens=16,
        max_turns=2)
    # the embedded model from the SFT warm start on 2 CPU cores
    PRESETS[(_method, "cpu-small")] = GAPDConfig(
        method=_method, lam=_lam, out_dir=f"runs/{_method}-cpu-small", num_updates=20, batch_size=2, lr=5e-5,
        warmup_updates=0, save_every=5, init_adapter="runs/sft-cpu-small/final", group_size=4, max_turns=5,
        update_chunk=1)
    # one GPU: more questions per update, more updates
    PRESETS[(_method, "gpu-small")] = GAPDConfig(
        method=_method, lam=_lam, out_dir=f"runs/{_method}-gpu-small", num_updates=30, batch_size=8, lr=5e-5,
        warmup_updates=0, save_every=10, init_adapter="runs/sft-gpu-small/final", group_size=8, max_turns=5,
        merged_generation=True, rollout_batch=64, update_chunk=16)


def preset_names(method: str) -> list[str]:
    """The preset names defined for `method`."""
    return [name for m, name in PRESETS if m == method]


def preset(method: str, name: str, **overrides) -> TrainConfig:
    """The preset `name` of `method` with some fields replaced (None leaves a field as the preset has it).

    `model` may be a ModelConfig or a dict of ModelConfig fields to replace."""
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if (method, name) not in PRESETS:
        raise ConfigError(f"unknown {method} preset {name!r}; choose one of {', '.join(preset_names(method))}")
    base = PRESETS[(method, name)]
    overrides = {k: v for k, v in overrides.items() if v is not None}
    allowed = {f.name for f in fields(base)}
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ConfigError(f"{', '.join(unknown)} {'does' if len(unknown) == 1 else 'do'} not apply to method {method} "
                          f"({type(base).__name__} has no such field)")
    if isinstance(overrides.get("model"), dict):
        overrides["model"] = replace(base.model, **overrides["model"])
    return replace(base, **overrides)
