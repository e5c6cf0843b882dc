"""Speed machinery, each piece behind its setting and tested equal to the plain reference it replaces:
per-episode KV caches for rollouts (`kv_cache`), the teacher continuing the student's cache (`teacher`), and SFT
one dialogue at a time over a shared prompt (`sft_prefix`). Nothing here changes what a loss or a rollout is."""
