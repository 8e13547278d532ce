# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Strict loading of official OpenVoice / MeloTTS checkpoints, with weight norm folded once.

The official files are `{"model": state_dict, "iteration": ..., ...}` saved from modules
wrapped in `torch.nn.utils.weight_norm` (keys `X.weight_g` / `X.weight_v`), or with the
newer parametrization API (`X.parametrizations.weight.original0` / `original1`). The
reference modules of this port are plain `Conv1d` / `ConvTranspose1d` / `Conv2d`, so the
weight norm is folded here, once, at load: `weight = g * v / ||v||` with the norm taken
over every dimension but 0, exactly as `torch._weight_norm(v, g, 0)` computes it during
upstream inference. Every other module of the port (reference and TTNN) starts from the
folded state dict this file returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import torch
from loguru import logger

_WN_LEGACY = ("weight_g", "weight_v")
_WN_PARAM = ("parametrizations.weight.original0", "parametrizations.weight.original1")


class CheckpointError(ValueError):
    """A checkpoint that does not fit the model it is loaded into; the message names the keys."""


def fold_weight_norm(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace every weight-norm pair (legacy or parametrization form) by the folded `weight`."""
    folded: dict[str, torch.Tensor] = {}
    pending: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state_dict.items():
        for g_suffix, v_suffix in (_WN_LEGACY, _WN_PARAM):
            if key.endswith("." + g_suffix) or key.endswith("." + v_suffix):
                is_g = key.endswith("." + g_suffix)
                prefix = key[: -len(g_suffix if is_g else v_suffix) - 1]
                pending.setdefault(prefix, {})["g" if is_g else "v"] = value
                break
        else:
            folded[key] = value
    for prefix, pair in pending.items():
        if set(pair) != {"g", "v"}:
            missing = "weight_g" if "g" not in pair else "weight_v"
            raise CheckpointError(f"weight-norm pair incomplete for '{prefix}': '{missing}' (or its parametrization form) missing")
        if prefix + ".weight" in folded:
            raise CheckpointError(f"'{prefix}' has both a plain weight and a weight-norm pair")
        g, v = pair["g"].float(), pair["v"].float()
        if g.dim() != v.dim() or g.shape[0] != v.shape[0] or g[0].numel() != 1:
            raise CheckpointError(f"weight-norm pair of '{prefix}' has mismatched shapes g={tuple(g.shape)} v={tuple(v.shape)}")
        folded[prefix + ".weight"] = torch._weight_norm(v, g, 0)
    return folded


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load `{"model": state_dict}` (official layout) or a plain state dict, on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a corrupt or foreign file
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint: {error}") from error
    state = obj.get("model", obj) if isinstance(obj, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected {{'model': state_dict}} or a plain state dict of tensors")
    return dict(state)


def load_strict(
    module: torch.nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    ignored_prefixes: tuple[str, ...] = (),
    source: str = "checkpoint",
) -> None:
    """Fold weight norm and load into `module`, failing on any missing, unexpected or mis-shaped key.

    `ignored_prefixes` lists submodules that official files carry but inference never uses
    (MeloTTS `enc_q.`); they are dropped and logged, never silently.
    """
    folded = fold_weight_norm(state_dict)
    ignored = sorted(k for k in folded if k.startswith(ignored_prefixes))
    if ignored:
        logger.info(f"{source}: {len(ignored)} tensors under {list(ignored_prefixes)} are unused at inference and not loaded")
        folded = {k: v for k, v in folded.items() if k not in set(ignored)}
    expected = module.state_dict()
    missing = sorted(set(expected) - set(folded))
    unexpected = sorted(set(folded) - set(expected))
    misshaped = sorted(
        f"{k}: checkpoint {tuple(folded[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(expected) & set(folded)
        if folded[k].shape != expected[k].shape
    )
    problems = []
    if missing:
        problems.append(f"missing keys: {missing}")
    if unexpected:
        problems.append(f"unexpected keys: {unexpected}")
    if misshaped:
        problems.append(f"mis-shaped keys: {misshaped}")
    if problems:
        raise CheckpointError(f"{source} does not fit {type(module).__name__}: " + "; ".join(problems))
    module.load_state_dict({k: v.float() for k, v in folded.items()}, strict=True)
