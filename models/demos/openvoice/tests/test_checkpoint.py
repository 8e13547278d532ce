# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Weight-norm folding and strict loading of official-format checkpoints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations

from models.demos.openvoice.utils.checkpoint import CheckpointError, fold_weight_norm, load_strict, read_state_dict
from models.demos.openvoice.utils.config import load_config
from models.demos.openvoice.reference.reference_encoder import load_reference_encoder
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter

GOLDEN_VC = "golden/vc_small_tau0"


def _layer(kind: str) -> nn.Module:
    return {
        "conv1d": lambda: nn.Conv1d(6, 8, 5, padding=2),
        "conv_transpose1d": lambda: nn.ConvTranspose1d(8, 4, 16, 8, padding=4),
        "conv2d": lambda: nn.Conv2d(3, 5, 3, stride=2, padding=1),
    }[kind]()


def _legacy_weight_norm(layer: nn.Module) -> nn.Module:
    with pytest.warns(FutureWarning):  # deprecated API, still what the official files were saved with
        return nn.utils.weight_norm(layer)


@pytest.mark.parametrize("form", ["legacy", "parametrization"])
@pytest.mark.parametrize("kind", ["conv1d", "conv_transpose1d", "conv2d"])
def test_fold_weight_norm_matches_torch(kind: str, form: str) -> None:
    torch.manual_seed(0)
    plain = _layer(kind)
    normed = _layer(kind)
    normed.load_state_dict(plain.state_dict())
    normed = _legacy_weight_norm(normed) if form == "legacy" else parametrizations.weight_norm(normed)
    # At wrapping g == ||v||; move g off it so a fold that ignores g (or uses the wrong dim) fails.
    with torch.no_grad():
        g = normed.weight_g if form == "legacy" else normed.parametrizations.weight.original0
        g.mul_(torch.rand_like(g) + 0.5)
    # Checkpoint keys always carry a module path ("dec.ups.0.weight_g"); nest the layer likewise.
    state = nn.ModuleDict({"layer": normed}).state_dict()
    if form == "legacy":
        suffixes = ("weight_g", "weight_v")
    else:
        suffixes = ("parametrizations.weight.original0", "parametrizations.weight.original1")
    assert {f"layer.{s}" for s in suffixes} <= set(state)

    folded = fold_weight_norm(state)
    assert set(folded) == {"layer.weight", "layer.bias"}
    load_strict(nn.ModuleDict({"layer": plain}), folded, source=kind)

    x = torch.randn((2, 6, 20) if kind == "conv1d" else (2, 8, 20) if kind == "conv_transpose1d" else (2, 3, 12, 10))
    with torch.no_grad():
        torch.testing.assert_close(plain(x), normed(x), rtol=0, atol=1e-6)
        torch.testing.assert_close(plain.weight, normed.weight, rtol=0, atol=1e-7)


def _vc_model(shared_data: Path) -> tuple[ToneColorConverter, dict[str, torch.Tensor], str]:
    folder = shared_data / GOLDEN_VC
    model = ToneColorConverter.from_config(load_config(folder / "config.json"))
    return model, read_state_dict(folder / "checkpoint.pth"), str(folder / "checkpoint.pth")


def test_golden_checkpoint_loads_strictly(shared_data: Path) -> None:
    model, state, source = _vc_model(shared_data)
    load_strict(model, state, source=source)
    assert torch.equal(model.dec.conv_post.weight, state["dec.conv_post.weight"])


def test_renamed_key_is_named(shared_data: Path) -> None:
    model, state, source = _vc_model(shared_data)
    state["flow.flows.0.pre.weight_renamed"] = state.pop("flow.flows.0.pre.weight")
    with pytest.raises(CheckpointError) as error:
        load_strict(model, state, source=source)
    message = str(error.value)
    assert "unexpected keys: ['flow.flows.0.pre.weight_renamed']" in message
    assert "missing keys: ['flow.flows.0.pre.weight']" in message
    assert source in message


def test_wrong_shape_is_named_with_both_shapes(shared_data: Path) -> None:
    model, state, source = _vc_model(shared_data)
    right = tuple(state["dec.conv_post.weight"].shape)
    state["dec.conv_post.weight"] = torch.zeros(1, right[1] + 1, 7)
    with pytest.raises(CheckpointError) as error:
        load_strict(model, state, source=source)
    message = str(error.value)
    assert f"dec.conv_post.weight: checkpoint {(1, right[1] + 1, 7)} vs model {right}" in message
    assert "missing keys" not in message and "unexpected keys" not in message


def test_missing_key_is_named(shared_data: Path) -> None:
    model, state, source = _vc_model(shared_data)
    del state["ref_enc.proj.bias"]
    with pytest.raises(CheckpointError, match=re.escape("missing keys: ['ref_enc.proj.bias']")):
        load_strict(model, state, source=source)


def test_ref_enc_from_plain_state_dict(shared_data: Path) -> None:
    path = shared_data / "openvoice_v2/ref_enc/ref_enc.pt"
    ref_enc = load_reference_encoder(path)
    raw = read_state_dict(path)
    assert all(k.startswith("ref_enc.") for k in raw)
    folded = fold_weight_norm(raw)
    assert set(ref_enc.state_dict()) == {k[len("ref_enc.") :] for k in folded}
    for key, value in ref_enc.state_dict().items():
        assert torch.equal(value, folded["ref_enc." + key]), key


def test_ref_enc_from_full_checkpoint(shared_data: Path) -> None:
    folder = shared_data / GOLDEN_VC
    gin = load_config(folder / "config.json").model.gin_channels
    ref_enc = load_reference_encoder(folder / "checkpoint.pth", gin_channels=gin)
    converter = ToneColorConverter.load(folder / "config.json", folder / "checkpoint.pth")
    spec = torch.load(folder / "case.pt", weights_only=False)["inputs"]["ref_spec"]
    with torch.inference_mode():
        assert torch.equal(ref_enc(spec.transpose(1, 2)).unsqueeze(-1), converter.extract_se(spec))


def test_ref_enc_wrong_width_fails_naming_proj(shared_data: Path) -> None:
    folder = shared_data / GOLDEN_VC
    gin = load_config(folder / "config.json").model.gin_channels
    with pytest.raises(CheckpointError, match=rf"proj\.weight: checkpoint \({gin}, 128\) vs model \(256, 128\)"):
        load_reference_encoder(folder / "checkpoint.pth", gin_channels=256)


def test_ref_enc_without_ref_enc_keys_fails(tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"model": {"dec.conv_post.weight": torch.zeros(1, 2, 7)}}, path)
    with pytest.raises(CheckpointError, match="no 'ref_enc.\\*' tensors"):
        load_reference_encoder(path)
