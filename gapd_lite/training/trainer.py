"""Training runs: dataclass configs and presets, a resumable loop with jsonl logs and atomic checkpoints.

The loop is the same for every method; what changes is the batch and the loss (SFT here; GRPO and
GAPD build on it). Rerunning the same command resumes from the last intact checkpoint with the same
data order and RNG state.
"""
from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..errors import ConfigError, require_positive
from ..models import ModelConfig, Policy, load_policy
from .checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from .rl import RLSettings


@dataclass(frozen=True)
class TrainConfig:
    """What every method shares: model, optimisation, budget, bookkeeping."""
    method: str = "sft"
    model: ModelConfig = field(default_factory=ModelConfig)
    out_dir: str = "runs/sft"
    max_steps: int = 100
    batch_size: int = 4
    grad_accum: int = 1
    lr: float = 2e-4
    warmup_steps: int = 10
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_len: int = 1024
    seed: int = 0
    save_every: int = 25
    log_every: int = 1
    keep_checkpoints: int = 2
    split: str = "train"
    max_questions: int | None = None  # first N training questions (None: all)
    init_adapter: str | None = None  # start from a saved adapter (e.g. the SFT result)
    # wall-clock budget: after the warm-up the cosine is fitted to end when it runs out (`budget_horizon`), and the
    # run stops cleanly (checkpoint + final adapter) once it is spent
    max_minutes: float | None = None
    unpadded: bool | None = None  # SFT loss one dialogue at a time (no pads); None: on a CPU only (a GPU batches)
    function_repeat: int = 1  # SFT: a question with a function (count, argmax, comparison, time) is seen this often per epoch
    rl: RLSettings = field(default_factory=RLSettings)  # GRPO/GAPD only

    def __post_init__(self) -> None:
        require_positive(self, "max_steps", "batch_size", "grad_accum", "max_len", "save_every", "log_every",
                         "keep_checkpoints", "function_repeat")
        if not (isinstance(self.lr, (int, float)) and 0 < self.lr < 1):
            raise ConfigError(f"{type(self).__name__}.lr={self.lr!r}: must be a number in (0, 1), e.g. 2e-4")
        if self.warmup_steps < 0 or self.max_grad_norm <= 0:
            raise ConfigError("warmup_steps must be >= 0 and max_grad_norm > 0")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ConfigError(f"max_minutes={self.max_minutes!r}: must be a positive number of minutes or None")
        if self.max_questions is not None and self.max_questions < 1:
            raise ConfigError(f"max_questions={self.max_questions!r}: must be a positive integer or None")

    def to_json(self) -> dict:
        return asdict(self)


FIT_AFTER = 4  # updates timed (and at least the warm-up) before a time budget fits the schedule's end

PRESETS: dict[str, TrainConfig] = {
    # a few updates on the tiny random model: what tests and notebooks' smoke mode run
    "smoke": TrainConfig(model=ModelConfig(name="tiny"), out_dir="runs/sft-smoke", max_steps=4, batch_size=2,
                         save_every=2, warmup_steps=1, max_questions=16, max_len=1024),
    # the embedded SmolLM2-135M with LoRA on 2 CPU cores, ≤ 30 minutes: one dialogue at a time (no pads), the
    # shared system prompt run once per update, no LoRA dropout (its random masks took a fifth of a CPU update,
    # torch.profiler in runs/COMMANDS.md; 84 updates see a fifth of the data once: nothing to regularise).
    # Each function question twice: count/superlative/comparison/time dialogues 34% of the data, not 21%;
    # max_len 1400 keeps 99% of the training dialogues (1200 dropped 24% of the function ones).
    "cpu-small": TrainConfig(model=ModelConfig(lora_dropout=0.0), out_dir="runs/sft-cpu-small", max_steps=84,
                             batch_size=4, lr=1e-3, warmup_steps=8, save_every=21, max_len=1400, function_repeat=2,
                             max_minutes=28.5),
    # one consumer GPU (QLoRA when CUDA is there): more data, longer
    "gpu-small": TrainConfig(out_dir="runs/sft-gpu-small", max_steps=300, batch_size=8, lr=3e-4, warmup_steps=15,
                             save_every=100, max_len=1400, function_repeat=2),
}


def preset(name: str, **overrides) -> TrainConfig:
    """A named preset with some fields replaced (e.g. max_steps=10)."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    base = PRESETS[name]
    rl_over = overrides.pop("rl", None)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    try:
        out = replace(base, **overrides)
        return replace(out, rl=replace(out.rl, **rl_over)) if rl_over else out
    except TypeError as exc:
        raise ConfigError(f"bad override for preset {name!r}: {exc}") from None


@dataclass
class WarmupCosine:
    """Linear warm-up, then cosine decay to 10% of the peak at update `total`.

    A callable object, not a closure, so LambdaLR's state_dict saves `total` and a resumed run keeps a schedule
    that a time budget has shortened (`budget_horizon`).
    """
    warmup: int
    total: int
    fitted: bool = False  # set once a time budget has fixed `total`; a resumed run does not refit

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / (self.warmup + 1)
        progress = (step - self.warmup) / max(1, self.total - self.warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def lr_lambda(config: TrainConfig) -> WarmupCosine:
    """The schedule of `config`: it ends at max_steps until a time budget says otherwise."""
    return WarmupCosine(config.warmup_steps, config.max_steps)


def budget_horizon(done: int, timed: int, elapsed_s: float, budget_s: float, max_steps: int,
                   margin: float = 0.95) -> int:
    """The update at which a time budget runs out at the pace of the `timed` updates so far (never past max_steps).

    Fitting the cosine to it means a slower machine still ends its run annealed, instead of being cut off
    half-way down the schedule; `margin` leaves room for checkpoints and longer batches.
    """
    if timed < 1 or elapsed_s <= 0:
        return max_steps
    left = max(0.0, budget_s - elapsed_s)
    return max(done, min(max_steps, done + int(margin * left * timed / elapsed_s)))


def data_order(n: int, seed: int, epoch: int) -> list[int]:
    """The same permutation for the same (seed, epoch), so a resumed run sees the same batches."""
    gen = torch.Generator().manual_seed(seed * 1000 + epoch)
    return torch.randperm(n, generator=gen).tolist()


def batch_indices(n: int, config: TrainConfig, step: int, rank: int = 0, world: int = 1) -> list[int]:
    """The example indices of update `step` for process `rank` of `world` (walks epochs of a seeded permutation)."""
    per_process = config.batch_size * config.grad_accum
    first = (step * world + rank) * per_process
    out = []
    for k in range(first, first + per_process):
        epoch, pos = divmod(k, n)
        out.append(data_order(n, config.seed, epoch)[pos])
    return out


@dataclass(frozen=True)
class ProcessGroup:
    """This process's place in a data-parallel run started by `torchrun` or `accelerate launch`."""
    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0

    def wait(self) -> None:
        import torch.distributed as dist
        dist.barrier()


def distributed() -> ProcessGroup | None:
    """The process group when the launcher started several processes (WORLD_SIZE > 1); None for one process."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(local)
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = torch.device(f"cuda:{local}") if torch.cuda.is_available() else torch.device("cpu")
    return ProcessGroup(dist.get_rank(), dist.get_world_size(), device)


def _agreed(value: float, state: ProcessGroup | None) -> float:
    """The largest `value` over the processes of a data-parallel run, so that all of them decide alike."""
    if state is None:
        return value
    import torch.distributed as dist
    t = torch.tensor([float(value)], device=state.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def _out_of_time(config: TrainConfig, t0: float, state: ProcessGroup | None) -> bool:
    """Whether the wall-clock budget is spent (agreed by every process of a data-parallel run)."""
    if config.max_minutes is None:
        return False
    return _agreed(time.perf_counter() - t0, state) > 60 * config.max_minutes


def _average_gradients(policy: Policy, world: int) -> None:
    """Data parallelism for adapters: the LoRA gradients are small, so one all-reduce per tensor suffices."""
    import torch.distributed as dist

    for p in policy.model.parameters():
        if p.requires_grad:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad /= world


class JsonlLog:
    """Append-only metrics log (one JSON object per line) that survives restarts."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def keep_until(self, step: int) -> None:
        """Forget records past `step` (the run's start): a fresh run starts an empty log, and a resumed one drops
        the updates its checkpoint lost, which it is about to redo (else the curve would count them twice)."""
        if not self.path.exists():
            return
        kept = [r for r in self.read() if r.get("step", 0) <= step]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
        os.replace(tmp, self.path)


def update_records(log: list[dict]) -> list[dict]:
    """The log's one record per update (a budgeted run also logs where it stopped, with no loss): a curve's points."""
    return [r for r in log if "loss" in r]


@dataclass
class RunResult:
    out_dir: Path
    steps: int
    resumed_from: int
    seconds: float
    last_loss: float | None  # the last update's (None only when no update was ever logged)
    log: list[dict]


def _setup(config: TrainConfig, policy: Policy | None) -> tuple[Policy, torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    state = distributed()
    policy = policy or load_policy(config.model, device=state.device if state else None)
    if config.init_adapter:
        policy.load_adapter(config.init_adapter)
    params = [p for p in policy.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(config))
    return policy, optimizer, scheduler


def run_loop(config: TrainConfig, policy: Policy, optimizer, scheduler, n_examples: int, loss_fn,
             progress: bool = True, stop_after: int | None = None, on_start=None) -> RunResult:
    """The shared loop: resume, then for each update average `loss_fn(indices)` over micro-batches, step, log, save.

    `loss_fn(indices) -> (loss tensor, stats dict)`; `stop_after` ends early (to test resuming).
    """
    state = distributed()
    rank, world = (state.rank, state.world) if state else (0, 1)
    main = rank == 0
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if main:
        (out / "config.json").write_text(json.dumps(config.to_json(), indent=1))
    log = JsonlLog(out / "log.jsonl")
    start = 0
    ckpt = latest_checkpoint(out)
    if ckpt is not None:
        start = load_checkpoint(ckpt, policy.model, optimizer, scheduler)["step"]
    if main:
        log.keep_until(start)
    if n_examples == 0:
        raise ConfigError("no training examples: check the split, max_questions and max_len")
    if on_start is not None:
        on_start(start)
    t0, last, timed_out = time.perf_counter(), None, 0
    policy.model.train()
    bar = tqdm(range(start, config.max_steps), initial=start, total=config.max_steps, desc=config.method,
               disable=not progress or not main)
    for step in bar:
        indices = batch_indices(n_examples, config, step, rank, world)
        optimizer.zero_grad(set_to_none=True)
        stats_sum: dict[str, float] = {}
        total = 0.0
        for m in range(config.grad_accum):
            micro = indices[m * config.batch_size:(m + 1) * config.batch_size]
            loss, stats = loss_fn(micro)
            (loss / config.grad_accum).backward()
            total += loss.item() / config.grad_accum
            for k, v in stats.items():
                stats_sum[k] = stats_sum.get(k, 0.0) + v / config.grad_accum
        if world > 1:
            _average_gradients(policy, world)
        grad_norm = torch.nn.utils.clip_grad_norm_([p for p in policy.model.parameters() if p.requires_grad],
                                                   config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        last = total
        fitted = {}
        schedule = scheduler.lr_lambdas[0]
        if (config.max_minutes is not None and not schedule.fitted
                and step + 1 == max(config.warmup_steps, start + FIT_AFTER)):
            schedule.fitted = True
            schedule.total = budget_horizon(step + 1, step + 1 - start, _agreed(time.perf_counter() - t0, state),
                                            60 * config.max_minutes, config.max_steps)
            fitted = {"schedule_end": schedule.total}
        if main and ((step + 1) % config.log_every == 0 or fitted):
            log.write({"step": step + 1, "loss": total, "lr": scheduler.get_last_lr()[0],
                       "grad_norm": float(grad_norm), "seconds": time.perf_counter() - t0, **stats_sum, **fitted})
        bar.set_postfix(loss=f"{total:.3f}")
        out_of_time = _out_of_time(config, t0, state)
        if main and ((step + 1) % config.save_every == 0 or step + 1 == config.max_steps or out_of_time):
            save_checkpoint(out, step + 1, policy.model, optimizer, scheduler, {"method": config.method},
                            keep=config.keep_checkpoints)
        if state:
            state.wait()
        if out_of_time and step + 1 < config.max_steps:
            timed_out = step + 1
            if main:
                log.write({"step": step + 1, "stopped": f"time budget of {config.max_minutes} min spent"})
                print(f"{config.method}: stopped after {step + 1} of {config.max_steps} updates: the time budget "
                      f"of {config.max_minutes} min is spent (rerun the same command to continue)")
            break
        if stop_after is not None and step + 1 >= stop_after:
            break
    bar.close()
    done = timed_out or min(config.max_steps, stop_after or config.max_steps)
    if (done == config.max_steps or timed_out) and main:
        policy.save_adapter(out / "final")
    if state:
        state.wait()
    records = log.read()
    updates = update_records(records)
    if last is None and updates:  # a finished run rerun: nothing to do, the log says where it ended
        last = updates[-1]["loss"]
    return RunResult(out, done, start, time.perf_counter() - t0, last, records)


def sft_unpadded(config: TrainConfig, policy: Policy) -> bool:
    """Whether SFT losses run one dialogue at a time: as configured, else on a CPU (where pads are pure cost)."""
    if config.unpadded is not None:
        return config.unpadded
    return next(policy.model.parameters()).device.type == "cpu"


def train_sft(config: TrainConfig, policy: Policy | None = None, kb=None, progress: bool = True,
              stop_after: int | None = None) -> RunResult:
    """Supervised warm start on gold trajectories (LoRA; QLoRA on CUDA)."""
    from ..data import load_split
    from ..kb import open_kb
    from .sft import build_examples, repeat_functions, sft_loss

    policy, optimizer, scheduler = _setup(config, policy)
    kb = kb or open_kb("memory")
    questions = load_split(config.split)[: config.max_questions]
    examples = build_examples(questions, kb, policy.tokenizer, max_len=config.max_len, progress=progress)
    examples = repeat_functions(examples, questions, config.function_repeat)
    pad = policy.tokenizer.pad_token_id
    unpadded = sft_unpadded(config, policy)

    def loss_fn(indices):
        loss, n_tokens = sft_loss(policy.model, [examples[i] for i in indices], pad, unpadded, 1.0 / config.grad_accum)
        return loss, {"tokens": float(n_tokens)}

    return run_loop(config, policy, optimizer, scheduler, len(examples), loss_fn, progress, stop_after)


RL_PRESETS: dict[str, TrainConfig] = {
    # tiny model, a couple of updates: tests and notebook smoke mode
    "smoke": TrainConfig(method="grpo", model=ModelConfig(name="tiny"), out_dir="runs/rl-smoke", max_steps=2,
                         batch_size=2, lr=1e-4, warmup_steps=0, save_every=1, max_questions=8,
                         rl=RLSettings(group_size=2, max_new_tokens=16, env_steps=2)),
    # the embedded model from the SFT warm start on 2 CPU cores (each arm ≤ 45 min)
    "cpu-small": TrainConfig(method="grpo", out_dir="runs/rl-cpu-small", max_steps=20, batch_size=2, lr=5e-5,
                             warmup_steps=0, save_every=5, init_adapter="runs/sft-cpu-small/final",
                             rl=RLSettings(group_size=4, env_steps=5, lam=0.0, update_chunk=1)),
    # one GPU: more questions per update, more updates
    "gpu-small": TrainConfig(method="grpo", out_dir="runs/rl-gpu-small", max_steps=30, batch_size=8, lr=5e-5,
                             warmup_steps=0, save_every=10, init_adapter="runs/sft-gpu-small/final",
                             rl=RLSettings(group_size=8, env_steps=5, lam=0.0, merged_generation=True,
                                           rollout_batch=64, update_chunk=16)),
}


def rl_preset(name: str, method: str = "grpo", **overrides) -> TrainConfig:
    """An RL preset for GRPO (λ = 0) or GAPD (λ from `lam`, default 0.5)."""
    if name not in RL_PRESETS:
        raise ConfigError(f"unknown RL preset {name!r}; choose one of {', '.join(RL_PRESETS)}")
    if method not in ("grpo", "gapd"):
        raise ConfigError(f"method {method!r}: choose grpo or gapd")
    rl_over = dict(overrides.pop("rl", None) or {})
    if method == "gapd":
        rl_over.setdefault("lam", 0.5)
    elif rl_over.get("lam", 0.0) != 0.0:
        raise ConfigError("GRPO means λ = 0; use --method gapd for a distillation weight")
    base = RL_PRESETS[name]
    overrides = {k: v for k, v in overrides.items() if v is not None}
    overrides.setdefault("out_dir", f"{base.out_dir}-{method}")
    try:
        out = replace(base, method=method, **overrides)
        return replace(out, rl=replace(out.rl, **rl_over))
    except TypeError as exc:
        raise ConfigError(f"bad override for RL preset {name!r}: {exc}") from None


def train_rl(config: TrainConfig, policy: Policy | None = None, kb=None, progress: bool = True,
             stop_after: int | None = None) -> RunResult:
    """GRPO (λ = 0) or GAPD from a warm start: rollouts, rewards, one update per batch of questions."""
    from ..data import load_split
    from ..kb import open_kb
    from .rl import chunked_update_loss, make_batch

    policy, optimizer, scheduler = _setup(config, policy)
    kb = kb or open_kb("memory")
    questions = load_split(config.split)[: config.max_questions]
    settings = config.rl
    sft_examples = None
    if settings.sft_weight > 0:
        from .sft import build_examples
        sft_examples = build_examples(questions, kb, policy.tokenizer, max_len=config.max_len, progress=False)
    by_qid = {e.qid: e for e in sft_examples or []}
    generator = None
    if settings.merged_generation:
        from ..models import MergedGenerator
        generator = MergedGenerator(policy)
    state = {"step": 0}

    def loss_fn(indices):
        step = state["step"]
        batch_questions = [questions[i] for i in indices]
        if generator is not None:
            generator.sync(policy)
        batch = make_batch(policy, kb, batch_questions, settings, seed=config.seed * 100_003 + step, generator=generator)
        policy.model.train()
        gold_examples = [by_qid.get(q.qid) for q in batch_questions]  # None where the gold dialogue was too long
        loss, stats = chunked_update_loss(policy, batch, settings, settings.lam_at(step, config.max_steps),
                                          gold_examples, scale=1.0 / config.grad_accum)
        state["step"] += 1
        return loss, stats

    def on_start(step: int) -> None:
        state["step"] = step

    return run_loop(config, policy, optimizer, scheduler, len(questions), loss_fn, progress, stop_after, on_start)
