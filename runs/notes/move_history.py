"""Move the long history out of README's Measured table into results/README.md (run once, 2026-12-03)."""
import sys
from pathlib import Path

readme = Path("README.md")
lines = readme.read_text().split("\n")
keys = {"| SFT warm start |": "SFT warm start (`gapd-lite train --method sft --preset cpu-small`)",
        "| batched rollouts |": "Batched rollouts (`gapd-lite bench rollout`)",
        "| after SFT |": "Scores after SFT (`gapd-lite eval … --adapter …`)"}
new_cells = dict(zip(keys, sys.argv[1:4]))
old = {}
for i, line in enumerate(lines):
    for key in keys:
        if line.startswith(key):
            cells = line.split(" | ")
            old[key] = " | ".join(cells[2:]).rstrip(" |")
            lines[i] = " | ".join(cells[:2] + [new_cells[key]]) + " |"
readme.write_text("\n".join(lines))
out = Path("results/README.md")
text = out.read_text()
text += "\n".join(f"\n### {keys[k]}\n\nAs the top-level README quoted it before 2026-12-03 (seventh session):\n\n{v}\n"
                  for k, v in old.items())
out.write_text(text)
