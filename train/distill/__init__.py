"""Context distillation (rule learning): teacher answers with rules in view, verified by the
RL reward, best per prompt → an SFT data set without the rules. See docs/training-data.md."""

from train.distill.config import DistillConfig
from train.distill.pipeline import run

__all__ = ["DistillConfig", "run"]
