"""Two data-parallel CPU processes (torchrun, gloo; `accelerate launch` sets the same environment on GPUs):
the same updates as one process accumulating both halves."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from gapd_lite.kb.server import free_port

SCRIPT = textwrap.dedent("""
    import sys
    from gapd_lite.models import ModelConfig
    from gapd_lite.training.config import preset
    from gapd_lite.training.trainer import train_sft
    out, world = sys.argv[1], int(sys.argv[2])
    # one process accumulating two micro-batches of 1 == two processes with one example each (no dropout: the
    # processes' RNG streams differ from one process's)
    cfg = preset("sft", "smoke", out_dir=out, num_updates=2, save_every=1, batch_size=1, grad_accum=2 if world == 1 else 1,
                 model=ModelConfig(name="tiny", lora_dropout=0.0))
    train_sft(cfg, progress=False)
""")


def _adapter(path: Path) -> dict:
    from safetensors.torch import load_file
    return load_file(str(path / "final" / "adapter_model.safetensors"))


@pytest.mark.slow
def test_two_processes_match_one_process_with_accumulation(tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torch's launcher torchrun is not installed")
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    subprocess.run([sys.executable, str(script), str(tmp_path / "one"), "1"], check=True, cwd=tmp_path)
    subprocess.run([torchrun, "--nproc_per_node", "2", "--master_port", str(free_port()), str(script),
                    str(tmp_path / "two"), "2"], check=True, cwd=tmp_path, capture_output=True)
    one = [json.loads(line) for line in (tmp_path / "one" / "log.jsonl").read_text().splitlines()]
    two = [json.loads(line) for line in (tmp_path / "two" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in two] == [1, 2]  # only the main process logs
    for a, b in zip(one, two):
        assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=1e-4)
    wa, wb = _adapter(tmp_path / "one"), _adapter(tmp_path / "two")
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.allclose(wa[k], wb[k], atol=1e-6), k
