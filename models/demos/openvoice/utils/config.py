# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Typed view of the official `config.json` files (OpenVoice V2 converter and MeloTTS).

Both upstream projects read `config.json` into an attribute dict and splat `hps.model`
into `SynthesizerTrn(**hps.model)`. Here the same file becomes frozen dataclasses whose
defaults are the release values, so a missing key takes the value the official
checkpoints were trained with and a typo'd key is reported instead of ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from loguru import logger


class ConfigError(ValueError):
    """A config.json that cannot describe an OpenVoice / MeloTTS model."""


@dataclass(frozen=True)
class DataConfig:
    sampling_rate: int = 22050
    filter_length: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_speakers: int = 0
    add_blank: bool = True
    spk2id: dict[str, int] = field(default_factory=dict)

    @property
    def spec_channels(self) -> int:
        """Number of linear-spectrogram bins (`filter_length // 2 + 1`, 513 for the release)."""
        return self.filter_length // 2 + 1


@dataclass(frozen=True)
class ModelConfig:
    # Shared by the tone-color converter and MeloTTS (release converter values as defaults).
    inter_channels: int = 192
    hidden_channels: int = 192
    filter_channels: int = 768
    n_heads: int = 2
    n_layers: int = 6
    kernel_size: int = 3
    p_dropout: float = 0.1
    resblock: str = "1"
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    upsample_rates: tuple[int, ...] = (8, 8, 2, 2)
    upsample_initial_channel: int = 512
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4)
    gin_channels: int = 256
    # Converter only: V2 runs the posterior encoder and the decoder with g = 0.
    zero_g: bool = False
    # MeloTTS only (upstream `SynthesizerTrn` keyword defaults).
    use_spk_conditioned_encoder: bool = True
    use_noise_scaled_mas: bool = True
    use_mel_posterior_encoder: bool = False
    use_duration_discriminator: bool = True
    use_transformer_flow: bool = True
    use_sdp: bool = True
    n_flow_layer: int = 4
    # Release value; upstream's keyword default (6) fails its own TransformerCouplingLayer assert (== 3).
    n_layers_trans_flow: int = 3
    flow_share_parameter: bool = False
    use_vc: bool = False  # MeloTTS: True runs the text encoder without the speaker embedding
    n_layers_q: int = 3
    use_spectral_norm: bool = False

    def __post_init__(self) -> None:
        if self.resblock not in ("1", "2"):
            raise ConfigError(f"model.resblock must be '1' or '2', got {self.resblock!r}")
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            raise ConfigError("model.upsample_rates and model.upsample_kernel_sizes differ in length")
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            raise ConfigError("model.resblock_kernel_sizes and model.resblock_dilation_sizes differ in length")
        if self.upsample_initial_channel % (2 ** len(self.upsample_rates)):
            raise ConfigError("model.upsample_initial_channel must halve cleanly at every upsampling stage")

    @property
    def upsample_factor(self) -> int:
        """Audio samples per spectrogram frame produced by the decoder (256 for the release)."""
        factor = 1
        for rate in self.upsample_rates:
            factor *= rate
        return factor


@dataclass(frozen=True)
class OpenVoiceConfig:
    data: DataConfig
    model: ModelConfig
    version: str = "v1"
    n_symbols: int = 0  # MeloTTS: len(symbols); 0 for the converter
    num_tones: int = 0
    num_languages: int = 0

    @property
    def is_converter(self) -> bool:
        """True for a tone-color converter config (no speakers, no text vocabulary)."""
        return self.data.n_speakers == 0 and self.n_symbols == 0


_TUPLE_FIELDS = {"resblock_kernel_sizes", "upsample_rates", "upsample_kernel_sizes"}


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        # Official configs carry training-only keys (training_files, mel_fmin, ...); upstream
        # swallows them through **kwargs. Log them so a typo'd inference key is visible.
        logger.debug(f"{where}: ignoring keys the inference model does not use: {unknown}")
    kwargs = {}
    for key in known & set(values):
        value = values[key]
        if key in _TUPLE_FIELDS:
            value = tuple(int(v) for v in value)
        elif key == "resblock_dilation_sizes":
            value = tuple(tuple(int(d) for d in ds) for ds in value)
        elif key == "resblock":
            value = str(value)
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise ConfigError(f"{where}: {error}") from error


def parse_config(raw: dict[str, Any]) -> OpenVoiceConfig:
    """Turn the JSON object of an official config into an `OpenVoiceConfig`."""
    if "data" not in raw or "model" not in raw:
        raise ConfigError("config.json needs both a 'data' and a 'model' section")
    data = _build(DataConfig, raw["data"], "config.data")
    model = _build(ModelConfig, raw["model"], "config.model")
    symbols = raw.get("symbols", [])
    n_symbols = symbols if isinstance(symbols, int) else len(symbols)
    return OpenVoiceConfig(
        data=data,
        model=model,
        version=str(raw.get("_version_", "v1")),
        n_symbols=n_symbols,
        num_tones=int(raw.get("num_tones", 0)),
        num_languages=int(raw.get("num_languages", 0)),
    )


def load_config(path: str | Path) -> OpenVoiceConfig:
    """Read and parse a `config.json`; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config not found: {path}")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path} is not valid JSON: {error}") from error
    try:
        return parse_config(raw)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from error
