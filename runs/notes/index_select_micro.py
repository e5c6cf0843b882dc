"""Why rollout.py cuts a finished turn's KV cache with slices: index_select along the positions is ~100x slower here.

python runs/notes/index_select_micro.py   # prints microseconds per call (one layer's keys, 900 cached positions)
"""
import time

import torch

buf = torch.randn(8, 3, 1100, 64)  # [batch, kv heads, positions (with room), head dim]: SmolLM2-135M's shapes
keys = buf[:, :, :900]
positions = torch.arange(100, 900)
rows = torch.tensor([0, 1, 2, 4, 5, 7])


def us(f, n=100):
    f()
    t0 = time.perf_counter()
    for _ in range(n):
        f()
    return round((time.perf_counter() - t0) / n * 1e6, 1)


print({"positions: index_select": us(lambda: keys[3:4].index_select(2, positions)),
       "positions: slices + cat": us(lambda: torch.cat([keys[3:4, :, 100:300], keys[3:4, :, 300:900]], dim=2)),
       "rows: advanced indexing": us(lambda: buf[rows]),
       "rows: slices + cat": us(lambda: torch.cat([buf[r:r + 1] for r in rows.tolist()]))})
