"""What every benchmark writes beside its figures: where it ran, and the JSON file (shared by bench and gpu_bench)."""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from .outputs import write_text


def machine() -> dict:
    """Where a figure was measured."""
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        import torch
        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def write_json(path: str | Path, data: dict, indent: int = 2) -> None:
    """A result as pretty JSON, its folder made if needed."""
    write_text(path, json.dumps(data, indent=indent) + "\n")
