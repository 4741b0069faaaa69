"""Single-step dynamic sampling on top of trl's GRPOTrainer (PurpCode's stage-2 detail).

A rollout group whose rewards are all equal (every rollout secure, or every rollout failing the
format gate) has zero advantage: it teaches nothing and only dilutes the batch. PurpCode drops
such groups and scales the NEXT step's prompt count by 1 / (learnable fraction), capped at 4×,
so that the number of learnable prompts per step stays near the configured batch.

How this maps onto trl (no trainer rewrite, three overrides):

* the dataloader is asked for `max_prompt_scale × prompts_per_step` prompts per step (the
  `per_device_train_batch_size × steps_per_generation` trl already uses for a generation
  batch); the trainer takes the first `k` prompt groups of that pool, where `k` is the scaled
  count decided by the previous step, and keeps the rest for the next step (no prompt wasted);
* `_calculate_rewards` is wrapped to keep the step's gathered reward matrix;
* `_generate_and_score_completions` calls trl's own implementation on the `k` groups, then
  removes the rows of zero-variance groups from the returned batch (so they cost no
  forward/backward pass), recomputes `num_items_in_batch`, and sets the next `k`.

When no group of a step is learnable, one group is kept with its loss mask zeroed: the step
runs with a zero loss instead of crashing, and the next step is scaled to the 4× cap.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from trl import GRPOTrainer


def group_learnable(rewards: torch.Tensor, num_generations: int) -> torch.Tensor:
    """Per group: True when its rewards are not all equal (NaN rows are ignored)."""
    grouped = rewards.view(-1, num_generations)
    low = torch.where(torch.isnan(grouped), torch.inf, grouped).min(dim=1).values
    high = torch.where(torch.isnan(grouped), -torch.inf, grouped).max(dim=1).values
    return (high - low) > 1e-6


def next_prompt_count(base: int, learnable_fraction: float, max_scale: float) -> int:
    """Prompts for the next step: base / fraction, at most max_scale × base."""
    scale = max_scale if learnable_fraction <= 0 else min(max_scale, 1.0 / learnable_fraction)
    return min(math.ceil(base * max_scale), max(base, math.ceil(base * scale)))


class DynamicSamplingGRPOTrainer(GRPOTrainer):
    """GRPOTrainer that drops zero-variance groups and rescales the next step's prompts.

    `base_prompts` and the counts are per process (every process takes the same number of
    groups, so trl's cross-process gathers stay aligned).
    """

    def __init__(
        self,
        *args: Any,
        base_prompts: int,
        max_prompt_scale: float,
        enabled: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.base_prompts = base_prompts
        self.max_prompt_scale = max_prompt_scale
        self.dynamic_enabled = enabled
        self.current_prompts = base_prompts
        self._carry: list[list[dict[str, Any]]] = []
        self._last_rewards: torch.Tensor | None = None
        self.step_stats: list[dict[str, float]] = []

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):  # type: ignore[override]
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._last_rewards = rewards.detach().clone()
        return rewards

    def _take_groups(self, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        g = self.num_generations
        groups = self._carry + [inputs[i : i + g] for i in range(0, len(inputs), g)]
        k = min(self.current_prompts, len(groups))
        taken, rest = groups[:k], groups[k:]
        cap = math.ceil(self.base_prompts * self.max_prompt_scale)
        self._carry = rest[:cap]
        return [row for group in taken for row in group]

    def _generate_and_score_completions(self, inputs):  # type: ignore[override]
        training = self.model.training
        if not training or not self.dynamic_enabled:
            if training:  # disabled: exactly the configured batch, like plain GRPO
                inputs = inputs[: self.base_prompts * self.num_generations]
            return super()._generate_and_score_completions(inputs)
        inputs = self._take_groups(inputs)
        output = super()._generate_and_score_completions(inputs)
        return self._drop_zero_variance(output, n_local=len(inputs))

    def _drop_zero_variance(self, output: dict[str, Any], n_local: int) -> dict[str, Any]:
        g = self.num_generations
        assert self._last_rewards is not None
        rewards = (self._last_rewards * self.reward_weights.to(self._last_rewards.device)).nansum(1)
        learnable = group_learnable(rewards, g)
        fraction = float(learnable.float().mean()) if learnable.numel() else 0.0
        start = self.accelerator.process_index * n_local
        rows = learnable.repeat_interleave(g)[start : start + n_local]
        keep = torch.nonzero(rows).flatten().tolist()
        kept_set = set(keep)
        dropped_rows = [i for i in range(n_local) if i not in kept_set]
        chunks = self.args.steps_per_generation
        zero_loss = not keep
        if zero_loss:
            keep = list(range(g))
        while len(keep) % chunks:  # trl splits the batch into equal micro-batches
            keep.append(dropped_rows.pop() if dropped_rows else keep[-1])
        padding = len(keep) - max(int(rows.sum()), 0) if not zero_loss else len(keep)
        index = torch.tensor(keep, device=output["completion_mask"].device)
        trimmed: dict[str, Any] = {}
        for key, value in output.items():
            if isinstance(value, torch.Tensor) and value.ndim > 0 and value.shape[0] == n_local:
                trimmed[key] = value.index_select(0, index)
            elif isinstance(value, list) and len(value) == n_local:
                trimmed[key] = [value[i] for i in keep]
            else:
                trimmed[key] = value
        mask = trimmed["completion_mask"].clone()
        if padding:  # rows added only to fill micro-batches: no loss from them
            mask[len(keep) - padding :] = 0
        trimmed["completion_mask"] = mask
        loss_mask = mask if trimmed.get("tool_mask") is None else mask * trimmed["tool_mask"]
        trimmed["num_items_in_batch"] = self.accelerator.gather(loss_mask.sum()).sum()

        n_groups = int(learnable.numel())
        stats = {
            "prompts": float(self.current_prompts),
            "groups": float(n_groups),
            "learnable_fraction": fraction,
            "dropped_groups": float(n_groups - int(learnable.sum())),
            "rollouts": float(n_groups * g),
        }
        self.current_prompts = next_prompt_count(self.base_prompts, fraction, self.max_prompt_scale)
        stats["next_prompts"] = float(self.current_prompts)
        self.step_stats.append(stats)
        for key, value in stats.items():
            self._metrics["train"][f"dynamic/{key}"].append(value)
        return trimmed
