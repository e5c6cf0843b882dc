"""The training loop every method shares, and the one place in the package that calls `backward()`.

Resume from the last intact checkpoint (same data order, same RNG), then per update: the method's loss in parts,
each backpropagated as it comes (a fast path splits an update so that one part's activations are alive at a
time; the plain path yields one part), clip, step, log a jsonl record, checkpoint atomically.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch
from tqdm.auto import tqdm

from ..errors import ConfigError
from ..models import Policy, load_policy
from ..outputs import write_text
from .checkpoint import latest_checkpoint, load_checkpoint, read_jsonl, save_checkpoint
from .config import TrainConfig

FIT_AFTER = 4  # updates timed (and at least the warm-up) before a time budget fits the schedule's end


@dataclass
class Part:
    """A piece of one update's loss, backpropagated by the loop as soon as it is made."""
    loss: torch.Tensor
    stats: dict = field(default_factory=dict)
    counted: bool = True  # False: a gradient carrier whose value is no part of the loss (fast SFT's shared prefix)


def backprop(parts: Iterable[Part]) -> tuple[float, dict]:
    """Backpropagate each part as it comes (a fast path's parts go back one by one): the package's only backward.
    Returns the loss (the counted parts' sum) and the parts' stats added up."""
    total, stats = 0.0, {}
    for part in parts:
        if part.loss.requires_grad:  # a part may only carry stats (a held-out measure)
            part.loss.backward()
        total += part.loss.item() if part.counted else 0.0
        for k, v in part.stats.items():
            stats[k] = stats.get(k, 0.0) + v
    return total, stats


def step_once(optimizer: torch.optim.Optimizer, parts: Iterable[Part]) -> tuple[float, dict]:
    """One optimizer step on one batch's loss parts, outside a run (no accumulation, no clipping): what the
    benchmarks time and the demo shows."""
    optimizer.zero_grad(set_to_none=True)
    loss, stats = backprop(parts)
    optimizer.step()
    return loss, stats


UpdateParts = Callable[[int, list[int], float], Iterable[Part]]  # (update, example indices, weight) → its loss's parts


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


def budget_horizon(done: int, timed: int, elapsed_s: float, budget_s: float, num_updates: int,
                   margin: float = 0.95) -> int:
    """The update at which a time budget runs out at the pace of the `timed` updates so far (never past the end).

    Fitting the cosine to it means a slower machine still ends its run annealed, instead of being cut off
    half-way down the schedule; `margin` leaves room for checkpoints and longer batches.
    """
    if timed < 1 or elapsed_s <= 0:
        return num_updates
    left = max(0.0, budget_s - elapsed_s)
    return max(done, min(num_updates, done + int(margin * left * timed / elapsed_s)))


def data_order(n: int, seed: int, epoch: int) -> list[int]:
    """The same permutation for the same (seed, epoch), so a resumed run sees the same batches."""
    gen = torch.Generator().manual_seed(seed * 1000 + epoch)
    return torch.randperm(n, generator=gen).tolist()


def batch_indices(n: int, config: TrainConfig, update: int, rank: int = 0, world: int = 1) -> list[int]:
    """The example indices of `update` for process `rank` of `world` (walks epochs of a seeded permutation)."""
    per_process = config.batch_size * config.grad_accum
    first = (update * world + rank) * per_process
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
        """The records; a torn last line (a crash mid-write) is skipped, damage earlier is an error."""
        return read_jsonl(self.path) if self.path.exists() else []

    def keep_until(self, update: int) -> None:
        """Forget records past `update` (the run's start): a fresh run starts an empty log, and a resumed one drops
        the updates its checkpoint lost, which it is about to redo (else the curve would count them twice)."""
        if not self.path.exists():
            return
        kept = [r for r in self.read() if r.get("step", 0) <= update]
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


def setup(config: TrainConfig, policy: Policy | None = None):
    """Seeds, the policy (loaded unless given; from `init_adapter` if set), AdamW over the trainable weights and
    the warm-up + cosine schedule."""
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    state = distributed()
    policy = policy or load_policy(config.model, device=state.device if state else None)
    if config.init_adapter:
        policy.load_adapter(config.init_adapter)
    params = [p for p in policy.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupCosine(config.warmup_updates, config.num_updates))
    return policy, optimizer, scheduler


RESUME_KEYS = ("method", "questions", "seed", "batch_size", "grad_accum")  # a resumed run must keep these
MODEL_KEYS = ("name", "lora_r", "lora_alpha", "target_modules", "quantize")  # ... and the adapter's shape


def check_resumable(config: TrainConfig, out: Path) -> None:
    """A run folder holding another method's or an incompatible config's checkpoints is not resumed: say how to
    start from its adapter instead."""
    saved_path = out / "config.json"
    if not saved_path.exists() or latest_checkpoint(out) is None:
        return
    try:
        saved = json.loads(saved_path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{saved_path} cannot be read ({exc}); give a new --out for a new run") from None
    mine = config.to_json()
    changed = [k for k in RESUME_KEYS if saved.get(k) != mine.get(k)]
    changed += [f"model.{k}" for k in MODEL_KEYS if (saved.get("model") or {}).get(k) != mine["model"].get(k)]
    if changed:
        what = ", ".join(f"{k}: {_get(saved, k)!r} → {_get(mine, k)!r}" for k in changed)
        raise ConfigError(f"{out} holds a {saved.get('method')} run with another config ({what}); it cannot be "
                          f"resumed as this one. To start from its adapter, pass --init-adapter {out / 'final'} "
                          "and a new --out")


def _get(d: dict, dotted: str):
    for part in dotted.split("."):
        d = (d or {}).get(part)
    return d


@contextlib.contextmanager
def run_folder_lock(out: Path):
    """Hold an exclusive lock on the run folder while training, so a second trainer cannot corrupt it."""
    out.mkdir(parents=True, exist_ok=True)
    handle = open(out / ".lock", "a+")
    try:
        try:
            import fcntl
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # no fcntl (Windows): no lock, as before
            pass
        except OSError:
            raise ConfigError(f"another process is training in {out}: wait for it to finish, or give another --out")
        yield
    finally:
        handle.close()


def run_loop(config: TrainConfig, policy: Policy, optimizer, scheduler, n_examples: int, update_parts: UpdateParts,
             progress: bool = True, stop_after: int | None = None) -> RunResult:
    """Resume, then per update: backpropagate `update_parts(update, indices, 1 / grad_accum)` of each micro-batch, clip,
    step, log, save. `stop_after` ends early (to test resuming). The run folder is locked while it runs."""
    state = distributed()
    main = state is None or state.main
    out = Path(config.out_dir)
    with run_folder_lock(out) if main else contextlib.nullcontext():
        return _run(config, policy, optimizer, scheduler, n_examples, update_parts, progress, stop_after, out, state)


def _run(config: TrainConfig, policy: Policy, optimizer, scheduler, n_examples: int, update_parts: UpdateParts,
         progress: bool, stop_after: int | None, out: Path, state: ProcessGroup | None) -> RunResult:
    rank, world = (state.rank, state.world) if state else (0, 1)
    main = rank == 0
    out.mkdir(parents=True, exist_ok=True)
    if main:
        check_resumable(config, out)
        write_text(out / "config.json", json.dumps(config.to_json(), indent=1))
    log = JsonlLog(out / "log.jsonl")
    start = 0
    ckpt = latest_checkpoint(out)
    if ckpt is not None:
        start = load_checkpoint(ckpt, policy.model, optimizer, scheduler)["step"]
    if main:
        log.keep_until(start)
    if n_examples == 0:
        raise ConfigError("no training examples: check the question file, max_questions and max_tokens")
    t0, last, timed_out = time.perf_counter(), None, 0
    policy.model.train()
    bar = tqdm(range(start, config.num_updates), initial=start, total=config.num_updates, desc=config.method,
               disable=not progress or not main)
    for update in bar:
        indices = batch_indices(n_examples, config, update, rank, world)
        optimizer.zero_grad(set_to_none=True)
        stats_sum: dict[str, float] = {}
        total = 0.0
        for m in range(config.grad_accum):
            micro = indices[m * config.batch_size:(m + 1) * config.batch_size]
            loss, stats = backprop(update_parts(update, micro, 1.0 / config.grad_accum))  # already × 1/grad_accum
            total += loss
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
                and update + 1 == max(config.warmup_updates, start + FIT_AFTER)):
            schedule.fitted = True
            schedule.total = budget_horizon(update + 1, update + 1 - start, _agreed(time.perf_counter() - t0, state),
                                            60 * config.max_minutes, config.num_updates)
            fitted = {"schedule_end": schedule.total}
        if main and ((update + 1) % config.log_every == 0 or fitted):
            log.write({"step": update + 1, "loss": total, "lr": scheduler.get_last_lr()[0],
                       "grad_norm": float(grad_norm), "seconds": time.perf_counter() - t0, **stats_sum, **fitted})
        bar.set_postfix(loss=f"{total:.3f}")
        out_of_time = config.max_minutes is not None and _agreed(time.perf_counter() - t0, state) > 60 * config.max_minutes
        if main and ((update + 1) % config.save_every == 0 or update + 1 == config.num_updates or out_of_time):
            save_checkpoint(out, update + 1, policy.model, optimizer, scheduler, {"method": config.method},
                            keep=config.keep_checkpoints)
        if state:
            state.wait()
        if out_of_time and update + 1 < config.num_updates:
            timed_out = update + 1
            if main:
                log.write({"step": update + 1, "stopped": f"time budget of {config.max_minutes} min spent"})
                print(f"{config.method}: stopped after {update + 1} of {config.num_updates} updates: the time budget "
                      f"of {config.max_minutes} min is spent (rerun the same command to continue)")
            break
        if stop_after is not None and update + 1 >= stop_after:
            break
    bar.close()
    done = timed_out or min(config.num_updates, stop_after or config.num_updates)
    if (done == config.num_updates or timed_out) and main:
        policy.save_adapter(out / "final")
    if state:
        state.wait()
    records = log.read()
    updates = update_records(records)
    if last is None and updates:  # a finished run rerun: nothing to do, the log says where it ended
        last = updates[-1]["loss"]
    return RunResult(out, done, start, time.perf_counter() - t0, last, records)
