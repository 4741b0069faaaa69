"""`python -m train …` (what `accelerate launch -m train …` runs on every process)."""

from train.cli import main

main()
