"""gapd_lite: Gold-Action Policy Distillation for knowledge-base QA, small enough to read and run."""
__version__ = "0.1.0"
