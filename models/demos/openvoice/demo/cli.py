"""OpenVoice V2 voice cloning from the command line.

    # clone: speaker embedding of one or more reference clips (averaged)
    python -m models.demos.openvoice.demo.cli clone ref1.wav [ref2.wav ...] --out target_se.pt

    # convert: re-voice a source clip to the cloned speaker
    python -m models.demos.openvoice.demo.cli convert source.wav --reference ref.wav --out cloned.wav

Checkpoints come from `--checkpoint-dir` (default `checkpoints_v2`, as upstream:
`converter/config.json`, `converter/checkpoint.pth`); fetch them with
`python -m models.demos.openvoice.common.download`. Cloning alone also works from the
reference-encoder weights only (`--ref-enc ref_enc.pt --config config.json`).

`--backend auto` runs TTNN on a Tenstorrent device when one is present and the float32
reference on the CPU otherwise; `--backend ttnn --device-mode mock` runs the TTNN code on
the mock Wormhole (numbers from ttnn's golden functions; for testing the port).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch
from loguru import logger

from models.demos.openvoice.common.audio import write_wav
from models.demos.openvoice.common.checkpoint import CheckpointError, read_state_dict
from models.demos.openvoice.common.config import OpenVoiceConfig, load_config
from models.demos.openvoice.demo.pipeline import (
    Backend,
    ReferenceBackend,
    SpeakerEmbeddingCache,
    VoiceCloner,
    model_fingerprint,
)
from models.demos.openvoice.reference.reference_encoder import ReferenceEncoder, load_reference_encoder
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter

DOWNLOAD_HINT = "python -m models.demos.openvoice.common.download --checkpoint-dir {dir}"


class MissingCheckpoint(RuntimeError):
    """The official checkpoint the command needs is not on disk."""


def _converter_paths(checkpoint_dir: Path) -> tuple[Path, Path]:
    return checkpoint_dir / "converter" / "config.json", checkpoint_dir / "converter" / "checkpoint.pth"


def _resolve_config(args: argparse.Namespace) -> OpenVoiceConfig:
    config_path = args.config or _converter_paths(args.checkpoint_dir)[0]
    if not Path(config_path).is_file():
        raise MissingCheckpoint(
            f"converter config not found at {config_path}: download it with `{DOWNLOAD_HINT.format(dir=args.checkpoint_dir)}` or pass --config"
        )
    return load_config(config_path)


def build_cloner(args: argparse.Namespace, need_converter: bool) -> VoiceCloner:
    """Load weights for the requested work and wrap them in the selected backend."""
    config = _resolve_config(args)
    _, checkpoint = _converter_paths(args.checkpoint_dir)
    converter = None
    if checkpoint.is_file():
        converter = ToneColorConverter.load(args.config or _converter_paths(args.checkpoint_dir)[0], checkpoint)
        ref_enc = converter.ref_enc
    elif need_converter:
        raise MissingCheckpoint(
            f"converter checkpoint not found at {checkpoint}: download it with `{DOWNLOAD_HINT.format(dir=args.checkpoint_dir)}` "
            "(needs the Hugging Face hub), or copy checkpoint.pth there"
        )
    elif args.ref_enc is not None:
        ref_enc = load_reference_encoder(args.ref_enc, config.data.spec_channels, config.model.gin_channels)
    else:
        raise MissingCheckpoint(
            f"no converter checkpoint at {checkpoint} and no --ref-enc given: download the checkpoint with "
            f"`{DOWNLOAD_HINT.format(dir=args.checkpoint_dir)}` or pass --ref-enc PATH"
        )
    backend = make_backend(args, config, ref_enc, converter)
    cache_dir = Path(args.se_cache) if args.se_cache else None
    cache = SpeakerEmbeddingCache(model_fingerprint(ref_enc.state_dict()), cache_dir)
    logger.info(f"backend: {backend.name}")
    return VoiceCloner(config, backend, cache)


def make_backend(
    args: argparse.Namespace, config: OpenVoiceConfig, ref_enc: ReferenceEncoder, converter: ToneColorConverter | None
) -> Backend:
    """`auto`: TTNN when a device is selected (`--device-mode real|mock`) or a card is present, else the reference."""
    backend = args.backend
    if backend == "auto":
        from models.common.mock_device import real_device_present

        backend = "ttnn" if args.device_mode in ("real", "mock") or real_device_present() else "reference"
    if backend == "reference":
        return ReferenceBackend(config, ref_enc, converter)
    from models.demos.openvoice.tt.backend import TtnnBackend

    return TtnnBackend.open(config, ref_enc, converter, device_mode=args.device_mode)


def _timing_note(backend: str) -> str:
    return " - mock device: host emulation, not device speed" if "mock" in backend else ""


def cmd_clone(args: argparse.Namespace) -> int:
    cloner = build_cloner(args, need_converter=False)
    se = cloner.extract_se(args.references)
    timing = cloner.last_timing
    print(f"speaker embedding: shape {tuple(se.shape)}, norm {se.norm():.4f}")
    print(f"clone: {timing.seconds * 1000:.1f} ms for {timing.audio_seconds:.2f} s of reference audio (RTF {timing.rtf:.4f}, backend {cloner.backend.name}){_timing_note(cloner.backend.name)}")
    if args.out:
        if Path(args.out).is_dir():
            raise IsADirectoryError(f"--out {args.out} is a directory; give a file name such as target_se.pt")
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        torch.save(se, args.out)
        print(f"wrote {args.out}")
    return 0


def _load_se(path: str) -> torch.Tensor:
    """A saved speaker embedding; its width is checked against the model by `VoiceCloner.convert`."""
    try:
        se = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a missing, foreign or corrupt file
        raise CheckpointError(f"{path}: not a saved speaker embedding ({type(error).__name__}: {error})") from error
    if not isinstance(se, torch.Tensor) or se.dim() != 3 or se.shape[0] != 1 or se.shape[2] != 1:
        raise CheckpointError(f"{path}: expected a speaker embedding tensor [1, gin, 1]")
    return se.float()


def cmd_convert(args: argparse.Namespace) -> int:
    cloner = build_cloner(args, need_converter=True)
    g_tgt = _load_se(args.target_se) if args.target_se else cloner.extract_se(args.reference)
    g_src = _load_se(args.source_se) if args.source_se else cloner.extract_se([args.source])
    audio = cloner.convert(args.source, g_src, g_tgt, tau=args.tau)
    timing = cloner.last_timing
    write_wav(args.out, audio, cloner.sampling_rate)
    print(f"convert: {timing.seconds:.2f} s for {timing.audio_seconds:.2f} s of audio (RTF {timing.rtf:.3f}, backend {cloner.backend.name}){_timing_note(cloner.backend.name)}")
    print(f"wrote {args.out}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="openvoice", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--checkpoint-dir", type=Path, default=Path(os.environ.get("OPENVOICE_CHECKPOINT_DIR", "checkpoints_v2")))
    common.add_argument("--config", type=Path, help="converter config.json (default: <checkpoint-dir>/converter/config.json)")
    common.add_argument("--ref-enc", type=Path, help="reference-encoder weights, used when the converter checkpoint is absent")
    common.add_argument("--backend", choices=("auto", "reference", "ttnn"), default="auto")
    common.add_argument("--device-mode", choices=("auto", "real", "mock"), default=os.environ.get("OPENVOICE_DEVICE", "auto"))
    common.add_argument("--se-cache", help="directory for cached speaker embeddings")
    sub = p.add_subparsers(dest="command", required=True)
    clone = sub.add_parser("clone", parents=[common], help="extract a speaker embedding from reference clips")
    clone.add_argument("references", nargs="+")
    clone.add_argument("--out", help="save the embedding ([1, gin, 1] tensor) here")
    clone.set_defaults(func=cmd_clone)
    convert = sub.add_parser("convert", parents=[common], help="re-voice a source clip to a target speaker")
    convert.add_argument("source")
    target = convert.add_mutually_exclusive_group(required=True)
    target.add_argument("--reference", nargs="+", help="reference clip(s) of the target voice")
    target.add_argument("--target-se", help="saved target embedding (.pt)")
    convert.add_argument("--source-se", help="saved source embedding, e.g. a base speaker's (default: extracted from the source)")
    convert.add_argument("--tau", type=float, default=0.3)
    convert.add_argument("--out", default="outputs/cloned.wav")
    convert.set_defaults(func=cmd_convert)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (MissingCheckpoint, ValueError, OSError) as error:  # AudioError, CheckpointError, ConfigError are ValueErrors
        logger.error(str(error))
        return 2
    except RuntimeError as error:
        from models.common.mock_device import MockOnRealHardwareError, NoDeviceError

        if isinstance(error, (NoDeviceError, MockOnRealHardwareError)):
            logger.error(f"device: {error}")
            return 2
        raise


def run() -> None:
    """Console entry point (`openvoice ...` once the project is installed)."""
    if "LOGURU_LEVEL" not in os.environ:
        logger.remove()  # loguru's default handler prints DEBUG; a CLI user wants INFO
        logger.add(sys.stderr, level="INFO")
    sys.exit(main())


if __name__ == "__main__":
    run()
