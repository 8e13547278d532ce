# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""OpenVoice V2 voice cloning from the command line.

    # clone: speaker embedding of one or more reference clips (averaged)
    python -m models.demos.openvoice.demo.cli clone ref1.wav [ref2.wav ...] --out target_se.pt

    # convert: re-voice a source clip to the cloned speaker
    python -m models.demos.openvoice.demo.cli convert source.wav --reference ref.wav --out cloned.wav

    # speak: text -> MeloTTS base speaker -> cloned voice (--stream: each sentence as soon as it is ready)
    python -m models.demos.openvoice.demo.cli speak "Hello world. How are you?" --language EN --reference ref.wav
    # ... without any checkpoint: seeded random weights of the release shapes (the audio is NOISE)
    python -m models.demos.openvoice.demo.cli speak "Hello world." --language EN --reference ref.wav --random-weights 0

Checkpoints come from `--checkpoint-dir` (default `checkpoints_v2`, as upstream:
`converter/config.json`, `converter/checkpoint.pth`; speak also reads `melotts/<LANG>/`,
`base_speakers/ses/`, `bert/`, `nltk_data/`); fetch them with
`python -m models.demos.openvoice.demo.download [--melotts EN --bert EN --nltk]`. Cloning alone also works from the
reference-encoder weights only (`--ref-enc ref_enc.pt --config config.json`).

`--backend auto` runs TTNN on the device `ttnn.open_device` opens (a Tenstorrent card; in this
repository's standalone environment, the mock Wormhole on a host without one) and the float32
reference on the CPU where there is none; `--backend reference|ttnn` forces one.
`--random-weights SEED` (every command): seeded random models of the release shapes, for trying
the path where no checkpoint can be downloaded; the audio is noise and the banner says so.
"""

from __future__ import annotations

import argparse
import functools
import os
import secrets
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch
from loguru import logger

from models.demos.openvoice.utils.audio import write_wav
from models.demos.openvoice.demo.backends import Backend, MeloLoader, ReferenceBackend, TtnnBackend
from models.demos.openvoice.demo.download import DEFAULT_DIR
from models.demos.openvoice.demo.pipeline import SpeakerEmbeddingCache, VoiceCloner, model_fingerprint
from models.demos.openvoice.utils.checkpoint import CheckpointError
from models.demos.openvoice.utils.config import OpenVoiceConfig, load_config
from models.demos.openvoice.utils.device import device_available
from models.demos.openvoice.reference.reference_encoder import ReferenceEncoder, load_reference_encoder
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter

if TYPE_CHECKING:  # the text stack is heavy: speak imports it when run
    from models.demos.openvoice.demo.speak import SpeakOptions, TextToSpeech

DOWNLOAD_HINT = "python -m models.demos.openvoice.demo.download --checkpoint-dir {dir}"


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


def _converter_weights(
    args: argparse.Namespace, need_converter: bool
) -> tuple[OpenVoiceConfig, ReferenceEncoder, ToneColorConverter | None, str]:
    """(config, reference encoder, converter or None, embedding-cache key): the official checkpoint,
    the reference encoder alone (`--ref-enc`), or seeded random weights (`--random-weights`)."""
    if args.random_weights is not None:
        from models.demos.openvoice.demo import random_weights as rw

        print(RANDOM_WEIGHTS_BANNER.format(seed=args.random_weights), file=sys.stderr)
        converter = rw.random_converter(args.random_weights)
        return rw.converter_config(), converter.ref_enc, converter, f"random-{args.random_weights}"
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
    return config, ref_enc, converter, model_fingerprint(ref_enc.state_dict())


def build_cloner(args: argparse.Namespace, need_converter: bool, melo: MeloLoader | None = None) -> VoiceCloner:
    """Load weights for the requested work (or seeded random ones) and wrap them in the selected backend."""
    config, ref_enc, converter, cache_key = _converter_weights(args, need_converter)
    backend = make_backend(args, config, ref_enc, converter, melo)
    cache_dir = Path(args.se_cache) if args.se_cache else None
    logger.info(f"backend: {backend.name}")
    return VoiceCloner(config, backend, SpeakerEmbeddingCache(cache_key, cache_dir))


def make_backend(
    args: argparse.Namespace,
    config: OpenVoiceConfig,
    ref_enc: ReferenceEncoder,
    converter: ToneColorConverter | None,
    melo: MeloLoader | None = None,
) -> Backend:
    """`auto`: TTNN when there is a device to open, else the reference."""
    backend = args.backend
    if backend == "auto":
        backend = "ttnn" if device_available() else "reference"
    if backend == "reference":
        return ReferenceBackend(config, ref_enc, converter, melo)
    return TtnnBackend.open(config, ref_enc, converter, melo=melo, chips=args.chips, traced=False if args.eager else None)


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


# ---- speak ---------------------------------------------------------------------------------------------------
RANDOM_WEIGHTS_BANNER = """
################################################################################
  RANDOM WEIGHTS (--random-weights {seed}): the converter (reference encoder
  included), MeloTTS and BERT are seeded random models of the release shapes.
  THE AUDIO IS NOISE, NOT SPEECH (and the embeddings no voice). Missing
  tokenizers use a whole-word stand-in. For real speech drop
  --random-weights and download the checkpoints:
  python -m models.demos.openvoice.demo.download --melotts LANG --bert LANG --nltk
################################################################################
"""


def _first_dir(*candidates: Path | None) -> Path | None:
    return next((Path(c) for c in candidates if c is not None and Path(c).is_dir()), None)


def _base_se_loader(directory: Path | None, random_seed: int | None, checkpoint_dir: Path) -> Callable[[str], torch.Tensor]:
    """speaker -> base SE from `<dir>/<speaker lower, '_' -> '-'>.pth`, as upstream's demo names the files."""

    @functools.lru_cache(maxsize=None)
    def load(speaker: str) -> torch.Tensor:
        name = speaker.lower().replace("_", "-")
        path = directory / f"{name}.pth" if directory is not None else None
        if path is not None and path.is_file():
            return _load_se(str(path))
        if random_seed is not None:
            from models.demos.openvoice.demo.random_weights import random_speaker_embedding

            logger.warning(f"base speaker SE {name}.pth not found: random SE (random-weights mode)")
            return random_speaker_embedding(random_seed, speaker)
        raise MissingCheckpoint(
            f"base speaker embedding {name}.pth not found in {directory}: download it with "
            f"`{DOWNLOAD_HINT.format(dir=checkpoint_dir)}` (writes base_speakers/ses) or pass --base-speakers DIR"
        )

    return load


def build_speaker(args: argparse.Namespace) -> "TextToSpeech":
    """Models, frontend and backend for `speak`: the official checkpoints, or seeded random weights."""
    from models.demos.openvoice.demo.speak import TextToSpeech
    from models.demos.openvoice.text.bert import BertFeatures
    from models.demos.openvoice.text.frontend import Frontend, checkpoint_text_dirs, model_text_language

    TextToSpeech.check_language(args.language, args.speaker)
    bert_dir, nltk_default = checkpoint_text_dirs(args.checkpoint_dir)
    nltk_dir = _first_dir(args.nltk_dir, nltk_default)
    ses_dir = _first_dir(args.base_speakers, args.checkpoint_dir / "base_speakers" / "ses")
    seed = args.random_weights
    if seed is not None:
        from models.demos.openvoice.demo import random_weights as rw

        tokenizer_dir = _first_dir(args.tokenizer_dir, bert_dir)
        melo = functools.lru_cache(maxsize=None)(lambda language: rw.random_melo(language, seed))
        cloner = build_cloner(args, need_converter=True, melo=melo)
        frontend, bert = rw.StandInFrontend(tokenizer_dir, nltk_dir), rw.RandomBertFeatures(tokenizer_dir, seed)
        spk2id = lambda language: rw.melo_config(language).data.spk2id  # noqa: E731
    else:
        melo_dir = args.checkpoint_dir / "melotts" / args.language
        config_file, checkpoint = melo_dir / "config.json", melo_dir / "checkpoint.pth"
        if not (config_file.is_file() and checkpoint.is_file()):
            raise MissingCheckpoint(
                f"MeloTTS {args.language} checkpoint not found in {melo_dir}: download it with "
                f"`{DOWNLOAD_HINT.format(dir=args.checkpoint_dir)} --melotts {args.language} "
                f"--bert {model_text_language(args.language)} --nltk` "
                "(needs the Hugging Face hub), or try the pipeline with --random-weights SEED"
            )
        from models.demos.openvoice.reference.melo_tts import MeloTTS

        melo_config = load_config(config_file)
        melo = functools.lru_cache(maxsize=None)(lambda language: MeloTTS.load(config_file, checkpoint))
        cloner = build_cloner(args, need_converter=True, melo=melo)
        tokenizer_dir = args.tokenizer_dir or bert_dir
        frontend, bert = Frontend(tokenizer_dir, nltk_dir), BertFeatures(bert_dir, tokenizer_dir=tokenizer_dir)
        spk2id = lambda language: dict(melo_config.data.spk2id)  # noqa: E731
    return TextToSpeech(cloner, frontend, bert, spk2id, _base_se_loader(ses_dir, seed, args.checkpoint_dir))


def cmd_speak(args: argparse.Namespace) -> int:
    from models.demos.openvoice.demo.speak import SpeakOptions

    seed = args.seed if args.seed is not None else secrets.randbits(31)
    print(f"seed: {seed} (--seed {seed} repeats this run)")
    options = SpeakOptions(args.speed, args.sdp_ratio, args.noise_scale, args.noise_scale_w, args.tau, seed)
    if args.out and Path(args.out).is_dir():
        raise IsADirectoryError(f"--out {args.out} is a directory; give a file name such as speech.wav")
    tts = build_speaker(args)
    try:
        return _speak(tts, args, options)
    finally:
        close = getattr(tts.cloner.backend, "close", None)
        if close is not None:  # the TTNN backend's device: free it now, not at interpreter exit
            close()


def _speak(tts: "TextToSpeech", args: argparse.Namespace, options: "SpeakOptions") -> int:
    from models.demos.openvoice.demo.speak import join_sentences

    backend = tts.cloner.backend.name
    g_tgt = _load_se(args.target_se) if args.target_se else tts.cloner.extract_se(args.reference)
    start = time.perf_counter()
    if args.stream:
        sentences = []
        for sentence in tts.stream(args.text, args.language, g_tgt, args.speaker, options):
            if not sentences:
                print(f"time to first audio: {sentence.ready_seconds:.2f} s (backend {backend}){_timing_note(backend)}")
            print(f"sentence {sentence.index + 1}: {sentence.audio.size / tts.sampling_rate:.2f} s of audio ready at "
                  f"{sentence.ready_seconds:.2f} s: {sentence.text!r}")
            sentences.append(sentence)
        audio = join_sentences([s.audio for s in sentences], tts.sampling_rate, options.speed)
    else:
        result = tts.speak(args.text, args.language, g_tgt, args.speaker, options)
        sentences, audio = result.sentences, result.audio
    elapsed = time.perf_counter() - start
    seconds = audio.size / tts.sampling_rate
    print(f"sentences: {len(sentences)}, MeloTTS frames {[s.frames for s in sentences]}, "
          f"converted samples {[int(s.audio.size) for s in sentences]}")
    print(f"speak: {elapsed:.2f} s for {seconds:.2f} s of audio (RTF {elapsed / seconds:.3f}, backend {backend}){_timing_note(backend)}")
    write_wav(args.out, audio, tts.sampling_rate)
    print(f"wrote {args.out} ({tts.sampling_rate} Hz, {audio.size} samples)")
    if args.random_weights is not None:
        print(f"NOTE: random weights (seed {args.random_weights}): this audio is noise, not speech", file=sys.stderr)
    return 0


def _add_speak(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from models.demos.openvoice.demo.speak import LANGUAGES

    speak = sub.add_parser("speak", parents=[common], help="say a text in a cloned voice (MeloTTS + converter)")
    speak.add_argument("text")
    speak.add_argument("--language", required=True, help=f"one of {', '.join(LANGUAGES)}")
    speak.add_argument("--speaker", help="base speaker / EN accent (EN-US, EN-BR, EN_INDIA, EN-AU, EN-Default); default the first")
    target = speak.add_mutually_exclusive_group(required=True)
    target.add_argument("--reference", nargs="+", help="reference clip(s) of the target voice")
    target.add_argument("--target-se", help="saved target embedding (.pt)")
    speak.add_argument("--speed", type=float, default=1.0, help="length_scale = 1 / speed")
    speak.add_argument("--sdp-ratio", type=float, default=0.2)
    speak.add_argument("--noise-scale", type=float, default=0.6)
    speak.add_argument("--noise-scale-w", type=float, default=0.8)
    speak.add_argument("--tau", type=float, default=0.3)
    speak.add_argument("--seed", type=int, help="seed of every random draw (default: a fresh one)")
    speak.add_argument("--stream", action="store_true", help="print each sentence as soon as its audio is ready")
    speak.add_argument("--base-speakers", type=Path, help="folder of base-speaker SEs (default <checkpoint-dir>/base_speakers/ses)")
    speak.add_argument("--tokenizer-dir", type=Path, help="folder of <hub id>/ tokenizers (default <checkpoint-dir>/bert)")
    speak.add_argument("--nltk-dir", type=Path, help="NLTK data folder (default <checkpoint-dir>/nltk_data)")
    speak.add_argument("--out", default="outputs/speech.wav")
    speak.set_defaults(func=cmd_speak)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="openvoice", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--checkpoint-dir", type=Path, default=DEFAULT_DIR, help="official checkpoints (default %(default)s)")
    common.add_argument("--config", type=Path, help="converter config.json (default: <checkpoint-dir>/converter/config.json)")
    common.add_argument("--ref-enc", type=Path, help="reference-encoder weights, used when the converter checkpoint is absent")
    common.add_argument("--backend", choices=("auto", "reference", "ttnn"), default="auto")
    common.add_argument("--chips", type=int, default=1, choices=(1, 2), help="ttnn: 2 opens an N300's 1x2 mesh (conversions and MeloTTS data parallel)")
    common.add_argument("--eager", action="store_true", help="ttnn: run the forwards untraced (default: traced on a card)")
    common.add_argument("--random-weights", type=int, metavar="SEED", help="seeded random models of the release shapes (NOISE audio)")
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
    _add_speak(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (MissingCheckpoint, ValueError, OSError) as error:  # AudioError, CheckpointError, ConfigError are ValueErrors
        logger.error(str(error))
        return 2


def run() -> None:
    """Console entry point (`openvoice ...` once the project is installed)."""
    if "LOGURU_LEVEL" not in os.environ:
        logger.remove()  # loguru's default handler prints DEBUG; a CLI user wants INFO
        logger.add(sys.stderr, level="INFO")
    sys.exit(main())


if __name__ == "__main__":
    run()
