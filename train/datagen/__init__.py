"""Red-team prompt synthesis for the training recipe (rule2code → vul2prompt, seeds, jailbreaks).

`run(config, out_dir)` writes `out_dir/prompts.jsonl`: one prompt record per line, each with
the single oracle that rewards its answers. See docs/training-data.md.
"""

from train.datagen.config import DatagenConfig
from train.datagen.pipeline import run

__all__ = ["DatagenConfig", "run"]
