"""gapd_lite: Gold-Action Policy Distillation for knowledge-base QA, small enough to read and run."""
__version__ = "0.1.0"
# Where the repository lives: the one place Colab installs it from; gapd_lite.colab.first_cell() writes it into the
# chapters' first cell. Change it here when the repository moves.
REPO_URL = "https://github.com/gapd-lite/gapd_lite"
