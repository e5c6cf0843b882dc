"""Checkpoints load without pickle (a planted payload is refused and never runs); damaged checkpoints and logs are
skipped with a message when a kill could explain them, else refused with a clear error."""
from __future__ import annotations

import json
import random

import pytest
import torch

from gapd_lite.errors import CheckpointError
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite.training.checkpoint import (FILES, MANIFEST, STATE, _sha, latest_checkpoint, load_checkpoint,
                                           read_jsonl, save_checkpoint)


class WarmupCosine:
    """A callable-object schedule like the trainer's: LambdaLR saves its fields in the checkpoint."""

    def __init__(self, warmup: int, total: int):
        self.warmup, self.total = warmup, total

    def __call__(self, step: int) -> float:
        return min(1.0, (step + 1) / (self.warmup + 1)) * max(0.1, 1 - step / self.total)


class Payload:
    """Unpickling this writes `marker`: what an attacker who can write the run folder would plant."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('pwned')",)


@pytest.fixture()
def trained(tmp_path):
    """A tiny policy after two AdamW updates, checkpointed; returns (policy, optimizer, scheduler, checkpoint)."""
    policy = load_policy(ModelConfig(name="tiny", lora_dropout=0.0))
    params = [p for p in policy.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupCosine(1, 10))
    for _ in range(2):
        sum((p * p).sum() for p in params).backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    ckpt = save_checkpoint(tmp_path / "run", 2, policy.model, optimizer, scheduler, {"method": "sft"})
    return policy, optimizer, scheduler, ckpt


def _fresh(trained):
    policy, optimizer, _, _ = trained
    params = [p for p in policy.model.parameters() if p.requires_grad]
    for p in params:
        torch.nn.init.zeros_(p)  # forget the trained values so that loading has to restore them
    opt = torch.optim.AdamW(params, lr=1e-3)
    return policy, opt, torch.optim.lr_scheduler.LambdaLR(opt, WarmupCosine(1, 99))


def _rewrite_manifest(ckpt):
    names = [p.name for p in ckpt.iterdir() if p.name != MANIFEST]
    (ckpt / MANIFEST).write_text(json.dumps({n: _sha(ckpt / n) for n in names}))


def test_checkpoint_holds_no_pickle_and_restores_everything(trained):
    policy, optimizer, scheduler, ckpt = trained
    assert sorted(p.name for p in ckpt.iterdir()) == sorted([*FILES, MANIFEST])
    for name in FILES:  # safetensors and JSON only: neither a raw pickle (0x80) nor torch.save's zip (PK)
        assert not (ckpt / name).read_bytes().startswith((b"\x80", b"PK"))
    weights = {n: p.detach().clone() for n, p in policy.model.named_parameters() if p.requires_grad}
    moments = {k: {n: v.clone() for n, v in s.items()} for k, s in optimizer.state_dict()["state"].items()}
    random.seed(7)
    torch.manual_seed(7)
    save_checkpoint(ckpt.parent.parent, 3, policy.model, optimizer, scheduler)
    expected = (random.random(), torch.rand(3))
    policy, opt, sched = _fresh(trained)
    state = load_checkpoint(latest_checkpoint(ckpt.parent.parent), policy.model, opt, sched)
    assert state["step"] == 3
    assert random.random() == expected[0] and torch.equal(torch.rand(3), expected[1])
    for n, p in policy.model.named_parameters():
        if p.requires_grad:
            assert torch.equal(p, weights[n])
    restored = opt.state_dict()
    assert restored["param_groups"][0]["betas"] == (0.9, 0.999)
    for k, s in moments.items():
        for n, v in s.items():
            assert torch.equal(restored["state"][k][n], v)
    assert sched.state_dict()["lr_lambdas"][0]["total"] == 10 and sched.last_epoch == 2


@pytest.mark.parametrize("plant", ["extra .pt listed", "extra .pt unlisted", "adapter as pickle", "trainer as pickle",
                                   "old pickle format"])
def test_a_planted_pickle_is_refused_and_never_runs(trained, tmp_path, plant):
    marker = tmp_path / "pwned"
    live = tmp_path / "live.pt"
    torch.save({"lora": Payload(tmp_path / "live")}, live)
    torch.load(live, weights_only=False)  # the payload is real: unpickling it writes a file
    assert (tmp_path / "live").read_text() == "pwned"
    policy, _, _, ckpt = trained
    evil = lambda name: torch.save({"lora": Payload(marker)}, ckpt / name)  # noqa: E731
    if plant == "extra .pt listed":
        evil("adapter.pt")
        _rewrite_manifest(ckpt)
    elif plant == "extra .pt unlisted":
        evil("adapter.pt")
    elif plant == "adapter as pickle":
        evil("adapter.safetensors")
        _rewrite_manifest(ckpt)
    elif plant == "trainer as pickle":
        evil("trainer.safetensors")
        _rewrite_manifest(ckpt)
    else:  # what an older gapd-lite wrote: adapter.pt + trainer.pt, with a matching manifest
        for name in FILES:
            (ckpt / name).unlink()
        evil("adapter.pt")
        evil("trainer.pt")
        (ckpt / "state.json").write_text('{"step": 2}')
        _rewrite_manifest(ckpt)
    _, opt, sched = _fresh(trained)
    with pytest.raises(CheckpointError, match="never loaded|not a readable safetensors"):
        load_checkpoint(latest_checkpoint(ckpt.parent.parent), policy.model, opt, sched)
    assert not marker.exists()


def test_resuming_a_run_with_a_planted_pickle_stops_before_any_update(tmp_path):
    """The issue's repro: a payload in the run folder with a recomputed manifest, then the same `train` again."""
    from gapd_lite.training.config import preset
    from gapd_lite.training.trainer import train_sft

    cfg = preset("sft", "smoke", out_dir=str(tmp_path / "run"))
    train_sft(cfg, progress=False, stop_after=2)
    ckpt = latest_checkpoint(tmp_path / "run")
    torch.save(Payload(tmp_path / "pwned"), ckpt / "adapter.pt")
    _rewrite_manifest(ckpt)
    with pytest.raises(CheckpointError, match="adapter.pt.*never loaded"):
        train_sft(cfg, progress=False)
    assert not (tmp_path / "pwned").exists()


DAMAGE = {  # what is written over the newest checkpoint -> words of the message that skips it
    "manifest is a list": ({MANIFEST: "[1, 2]"}, "not an object of file names"),
    "manifest is empty": ({MANIFEST: "{}"}, "does not list adapter.safetensors"),
    "manifest checksum is a number": ({MANIFEST: '{"state.json": 5}'}, "not an object of file names"),
    "manifest names a path outside": ({MANIFEST: '{"../../state.json": "0"}'}, "not a file of the checkpoint"),
    "state without step": ({STATE: '{"method": "sft"}', "rehash": True}, "state.json has no integer step"),
    "state step is text": ({STATE: '{"step": "3"}', "rehash": True}, "state.json has no integer step"),
    "state is a list": ({STATE: "[3]", "rehash": True}, "state.json has no integer step"),
    "state is garbage": ({STATE: "\x00{", "rehash": True}, "state.json is not valid JSON"),
    "state edited, manifest not": ({STATE: '{"step": 99}'}, "does not match its checksum"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_checkpoint_is_skipped_with_a_message(trained, damage):
    policy, optimizer, scheduler, older = trained
    run = older.parent.parent
    newest = save_checkpoint(run, 3, policy.model, optimizer, scheduler)
    writes, words = DAMAGE[damage]
    for name, text in writes.items():
        if name != "rehash":
            (newest / name).write_text(text)
    if writes.get("rehash"):
        (newest / MANIFEST).write_text(json.dumps({n: _sha(newest / n) for n in FILES}))
    messages: list[str] = []
    assert latest_checkpoint(run, messages.append) == older
    assert messages == [f"skipping checkpoint {newest.name}: " + messages[0].split(": ", 1)[1]]
    assert words in messages[0]


def test_a_checkpoint_with_unreadable_trainer_state_is_refused(trained):
    policy, _, _, ckpt = trained
    (ckpt / "trainer.json").write_text('{"optimizer": {"__tensor__": "nope"}, "rng": {}}')
    _rewrite_manifest(ckpt)
    _, opt, sched = _fresh(trained)
    with pytest.raises(CheckpointError, match="names a tensor 'nope'"):
        load_checkpoint(ckpt, policy.model, opt, sched)


@pytest.mark.parametrize("tail,skipped", [
    ("", None),
    ('{"step": 3, "loss": 0.4', "not valid JSON"),  # torn mid-record
    ('{"step": 3, "loss": 0.4}', None),  # complete record, newline lost: kept
    ("\x00\x00\x00", "not valid JSON"),  # a block of zeros left by a crash
    ("[1, 2]", "a JSON list, not a record"),
    ('{"step": 3, "name": "\xe9', "not valid JSON"),  # a multi-byte character cut in two (written as Latin-1 below)
])
def test_read_jsonl_skips_a_torn_last_line(tmp_path, tail, skipped):
    path = tmp_path / "log.jsonl"
    body = '{"step": 1, "loss": 0.9}\n\n{"step": 2, "loss": 0.5}\n'
    path.write_bytes(body.encode() + (tail.encode("latin-1") if "\xe9" in tail else tail.encode()))
    messages: list[str] = []
    records = read_jsonl(path, messages.append)
    assert [r["step"] for r in records] == [1, 2] + ([3] if tail and not skipped else [])
    if skipped:
        assert len(messages) == 1 and "line 4" in messages[0] and skipped in messages[0]
    else:
        assert messages == []
    assert read_jsonl(tmp_path / "absent.jsonl") == []


def test_read_jsonl_refuses_damage_before_the_last_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 1}\ngarbage\n{"step": 3}\n')
    with pytest.raises(CheckpointError, match="line 2 is not valid JSON .*before the last line"):
        read_jsonl(path)
