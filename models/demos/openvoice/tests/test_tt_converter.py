"""TTNN tone-colour converter (tt/) against the float32 reference and the golden vectors.

Per module (posterior encoder, flow forward, flow reverse, decoder) each TT module gets
the reference's own input, so its error is its own; end to end chains them all.
Release config (real 513-bin spectrogram of 3 s of speech, real V2 base-speaker
embeddings, seeded random weights), the two golden folders (upstream outputs) and a B=3
batch of real clips with per-item lengths and speakers, each item also run alone.

Bars: `helpers.bar(device, module)` (per module, defined once in helpers.py with the measured
mock figures; the figure next to each assertion is the worst case measured on the mock). Every
output is checked whole (PCC) and per batch item (`helpers.assert_items_close`: valid-region
PCC, max |error| relative to the item's scale, first / last valid frame, padded frames: exactly
zero for the masked latents, "match" for the unmasked decoder's audio, as upstream).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import ttnn
from loguru import logger

from models.demos.openvoice.common.audio import load_audio
from models.demos.openvoice.common.config import load_config, parse_config
from models.demos.openvoice.reference.commons import sequence_mask
from models.demos.openvoice.reference.generator import Generator
from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter, VoiceConversionOutput
from models.demos.openvoice.tests.helpers import assert_items_close, bar, clip_path, device_to_host_transfers
from models.demos.openvoice.tt.backend import L1_SMALL_SIZE
from models.demos.openvoice.tt.conv import TtConv1d, precise_compute_config
from models.demos.openvoice.tt.generator import TtGenerator
from models.demos.openvoice.tt.residual_coupling import full_channel_weights
from models.demos.openvoice.tt.tone_color_converter import (
    TtConverterInputs,
    TtToneColorConverter,
    from_time_major,
    to_time_major,
)
from models.demos.openvoice.tt.wavenet import SpeakerRows
from models.common.mock_device import assert_no_host_round_trip, capture
from tests.ttnn.utils_for_testing import assert_with_pcc

DEVICE = pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)

TAU = 0.3
LATENTS = ("z", "m_q", "logs_q", "z_p", "z_hat")


class Case:
    """A reference model, its inputs and its outputs."""

    def __init__(self, model: ToneColorConverter, inputs: dict, outputs: VoiceConversionOutput | dict) -> None:
        self.model, self.inputs = model, inputs
        get = outputs.get if isinstance(outputs, dict) else lambda name: getattr(outputs, name)
        self.outputs = {name: get(name) for name in (*LATENTS, "audio")}

    def upload(self, tt: TtToneColorConverter) -> TtConverterInputs:
        i = self.inputs
        return tt.prepare_inputs(i["spec"], i["spec_lengths"], i["g_src"], i["g_tgt"], i["tau"], i["eps_q"])


@pytest.fixture(scope="module")
def release(shared_data: Path) -> Case:
    """Release config, seeded random weights, 3 s of real speech (257 frames: not a multiple of 32)."""
    torch.manual_seed(0)
    model = ToneColorConverter.from_config(load_config(shared_data / "openvoice_v2/config.json")).eval()
    wav = torch.from_numpy(load_audio(shared_data / "audio/counting.wav", 22050))
    spec = spectrogram(wav[None])
    frames = spec.shape[-1]
    ses = shared_data / "openvoice_v2/base_speakers/ses"
    inputs = {
        "spec": spec,
        "spec_lengths": torch.tensor([frames]),
        "g_src": torch.load(ses / "en-us.pth", map_location="cpu"),
        "g_tgt": torch.load(ses / "zh.pth", map_location="cpu"),
        "tau": TAU,
        "eps_q": torch.randn(1, model.enc_q.out_channels, frames),
    }
    with torch.inference_mode():
        outputs = model.voice_conversion(
            spec, inputs["spec_lengths"], inputs["g_src"], inputs["g_tgt"], tau=TAU, noise=inputs["eps_q"]
        )
    return Case(model, inputs, outputs)


def golden_case(shared_data: Path, name: str) -> Case:
    folder = shared_data / "golden" / name
    model = ToneColorConverter.load(folder / "config.json", folder / "checkpoint.pth")
    case = torch.load(folder / "case.pt", weights_only=False)
    return Case(model, case["inputs"], case["outputs"])


def _down(t: ttnn.Tensor, batch: int) -> torch.Tensor:
    return from_time_major(ttnn.to_torch(t).float(), batch)


def _up(device, x: torch.Tensor) -> ttnn.Tensor:
    return ttnn.from_torch(to_time_major(x), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)


# Reference output -> the helpers.MOCK_BARS module whose bar it is checked at.
MODULE_OF = {
    "z": "posterior_z",
    "m_q": "posterior_m",
    "logs_q": "posterior_logs",
    "z_p": "z_p",  # chained: carries the posterior encoder's error
    "z_hat": "z_hat",
    "audio": "audio",
}


def _check(device, module: str, expected: torch.Tensor, actual: torch.Tensor, lengths=None, padded: str = "zero") -> float:
    """Whole-tensor PCC and the per-item checks of `assert_items_close` at `module`'s bar; returns the PCC."""
    limits = bar(device, module)
    pcc = assert_with_pcc(expected, actual, limits.pcc)
    assert_items_close(module, expected, actual, lengths, pcc=limits.pcc, max_rel=limits.max_rel, padded=padded)
    return pcc


def _audio_lengths(lengths: torch.Tensor, hop: int) -> list[int]:
    return [int(v) * hop for v in lengths]


# ---- per module, release config -------------------------------------------------------


@DEVICE
def test_posterior_encoder(device, release: Case) -> None:
    tt = TtToneColorConverter(device, release.model)
    z, m_q, logs_q = tt.encode(release.upload(tt))
    # measured on the mock: z PCC 0.999982 max_rel 6.6e-3, m_q 0.999963 / 9.1e-3, logs_q 0.999962 / 9.9e-3;
    # bars 0.9998 / 0.035, 0.9998 / 0.03, 0.99985 / 0.03 (helpers.MOCK_BARS: worst case is vc_small_b2)
    for name, value in (("z", z), ("m_q", m_q), ("logs_q", logs_q)):
        pcc = _check(device, MODULE_OF[name], release.outputs[name], _down(value, 1))
        logger.info(f"posterior encoder {name}: PCC {pcc:.6f}")


@DEVICE
@pytest.mark.parametrize(
    "stage, given, produced, module",
    [
        ("flow_forward", "z", "z_p", "flow_forward"),  # measured 0.999993 / 5.9e-3 (mock); bar 0.99998 / 0.012
        ("flow_reverse", "z_p", "z_hat", "flow_reverse"),  # measured 0.999991 / 4.9e-3; bar 0.99997 / 0.01
        ("decode", "z_hat", "audio", "generator"),  # measured 0.999435 / 1.1e-2; bar 0.9988 / 0.025
    ],
)
def test_stage_on_reference_input(device, release: Case, stage: str, given: str, produced: str, module: str) -> None:
    """Flow forward, flow reverse and generator, each fed the reference's own input."""
    tt = TtToneColorConverter(device, release.model)
    output = getattr(tt, stage)(release.upload(tt), _up(device, release.outputs[given]))
    pcc = _check(device, module, release.outputs[produced], _down(output, 1))
    logger.info(f"{stage} {produced}: PCC {pcc:.6f}")


@DEVICE
def test_generator_resblock2_conditioned(device) -> None:
    """ResBlock2 decoder (HiFi-GAN V3 blocks), other rates/kernels, with speaker conditioning
    (not zero_g) per batch item: B=2, 37 frames, a different embedding per item."""
    torch.manual_seed(0)
    ref = Generator(16, "2", [3, 5], [[1, 2], [2, 6]], [4, 2], 32, [8, 4], gin_channels=8).eval()
    x, g = torch.randn(2, 16, 37), torch.randn(2, 8, 1)
    tt = TtGenerator(device, ref, zero_cond=False, compute=precise_compute_config(device))
    segments = torch.eye(2).repeat_interleave(37, dim=0).reshape(1, 1, 74, 2)
    upload = lambda t: ttnn.from_torch(t, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)  # noqa: E731
    speaker = SpeakerRows(upload(segments), upload(g[:, :, 0].reshape(1, 1, 2, 8)))
    audio = tt(_up(device, x), 2, 37, speaker)
    with torch.inference_mode():
        expected = ref(x, g=g)
    _check(device, "generator", expected, _down(audio, 2))  # measured 0.999990 / 8.1e-3 (mock); bar 0.9988 / 0.025


@DEVICE
def test_speaker_conditioning_projects_items_then_rows(device) -> None:
    """SpeakerRows.project = S @ (g @ W): the 1x1 conditioning conv runs on the B embeddings (one
    linear on [B, gin]) and S (K = B) copies each item's projection to its rows; same numbers as
    the per-row (S @ g) @ W."""
    torch.manual_seed(0)
    b, t, gin, co = 2, 37, 16, 64
    weight, g = torch.randn(co, gin, 1) / gin**0.5, torch.randn(b, gin)
    conv = TtConv1d(device, weight, None, compute=precise_compute_config(device))
    segments = torch.eye(b).repeat_interleave(t, dim=0)
    upload = lambda x: ttnn.from_torch(x.reshape(1, 1, *x.shape), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)  # noqa: E731
    speaker = SpeakerRows(upload(segments), upload(g))
    report = capture(speaker.project, conv)
    assert [str(op) for op in report.operations] == ["ttnn.linear", "ttnn.matmul"]  # items first, then rows
    assert_no_host_round_trip(report)
    expected = (segments @ g @ weight[:, :, 0].t()).reshape(b, t, co).permute(0, 2, 1)
    actual = ttnn.to_torch(report.result).float().reshape(b, t, co).permute(0, 2, 1)
    _check(device, "conv", expected, actual)  # per item: item b's rows carry item b's projection; measured 0.999996 / 4.9e-3


# ---- end to end -----------------------------------------------------------------------


def _check_end_to_end(device, case: Case) -> dict[str, float]:
    tt = TtToneColorConverter(device, case.model)
    inputs = case.upload(tt)
    out = tt.forward_all(inputs)
    b = inputs.batch_size
    lengths = case.inputs["spec_lengths"]
    pccs = {}
    for name in LATENTS:  # masked: padded frames exactly zero
        pccs[name] = _check(device, MODULE_OF[name], case.outputs[name], _down(getattr(out, name), b), lengths)
    # The decoder is unmasked in the reference too: its padded tail must match, not be zero.
    audio_lengths = _audio_lengths(lengths, tt.hop)
    pccs["audio"] = _check(device, "audio", case.outputs["audio"], _down(out.audio, b), audio_lengths, padded="match")
    logger.info("end to end PCC: " + ", ".join(f"{k} {v:.6f}" for k, v in pccs.items()))
    return pccs


@DEVICE
def test_end_to_end_release(device, release: Case) -> None:
    # measured (mock) z 0.999982, m_q 0.999963, logs_q 0.999962, z_p 0.999979, z_hat 0.999971, audio 0.999426
    # (max_rel <= 1.2e-2); bars helpers.MOCK_BARS (audio 0.9988 / 0.04)
    _check_end_to_end(device, release)


@DEVICE
@pytest.mark.parametrize("name", ["vc_small_b2", "vc_small_tau0"])
def test_end_to_end_golden(device, shared_data: Path, name: str) -> None:
    """Upstream's recorded outputs (vc_small_b2: B=2 with lengths 40 and 27 and a distinct source
    and target embedding per item; vc_small_tau0: tau = 0, inter_channels 48 so the coupling halves
    are not tile aligned)."""
    # measured (mock, worst item) b2: z 0.999907, m_q 0.999914, logs_q 0.999936, z_p 0.999906, z_hat 0.999884,
    # audio 0.999802, max_rel <= 1.85e-2; tau0: >= 0.999931, audio 0.999943, max_rel <= 1.8e-2
    _check_end_to_end(device, golden_case(shared_data, name))


@DEVICE
def test_end_to_end_without_zero_g(device, shared_data: Path) -> None:
    """A converter with zero_g off (V1 style): the posterior encoder and the decoder are
    conditioned per batch item on g_src / g_tgt through the same S @ g rows."""
    case = golden_case(shared_data, "vc_small_b2")
    case.model.zero_g = False
    i = case.inputs
    with torch.inference_mode():
        outputs = case.model.voice_conversion(
            i["spec"], i["spec_lengths"], i["g_src"], i["g_tgt"], tau=i["tau"], noise=i["eps_q"]
        )
    # measured (mock, worst item): latents >= 0.999910, audio 0.999835, max_rel <= 1.9e-2
    _check_end_to_end(device, Case(case.model, i, outputs))


# ---- a batch of real clips: per-item lengths and speakers, each item also alone -------------

# (clip, first sample, frames, source speaker, target speaker): three speakers, three lengths
# (none a multiple of 32), source != target, and no embedding shared between items.
BATCH_ITEMS = (
    ("counting", 22050, 45, "en-us", "zh"),
    ("jfk", 3 * 22050, 29, "jp", "en-india"),
    ("one_two_three", 11025, 37, "fr", "kr"),
)


@pytest.fixture(scope="module")
def real_batch(shared_data: Path) -> dict:
    """Reference outputs of a B=3 batch of real speech (zero-padded spectrograms, as upstream
    batches) and of each item alone, on a narrow release-structured converter (seeded weights;
    gin 256 so the real base-speaker embeddings condition the flows)."""
    raw = json.loads((shared_data / "openvoice_v2/config.json").read_text())
    raw["model"].update(inter_channels=32, hidden_channels=32, upsample_initial_channel=64)
    torch.manual_seed(1)
    model = ToneColorConverter.from_config(parse_config(raw)).eval()
    ses = shared_data / "openvoice_v2/base_speakers/ses"
    embedding = lambda name: torch.load(ses / f"{name}.pth", map_location="cpu")  # noqa: E731
    specs, g_src, g_tgt = [], [], []
    for clip, start, frames, src, tgt in BATCH_ITEMS:
        wav = torch.from_numpy(load_audio(clip_path(clip), 22050))[start : start + frames * 256]
        specs.append(spectrogram(wav[None]))
        g_src.append(embedding(src))
        g_tgt.append(embedding(tgt))
    lengths = torch.tensor([s.shape[-1] for s in specs])
    length = int(lengths.max())
    spec = torch.cat([F.pad(s, (0, length - s.shape[-1])) for s in specs])
    noise = torch.randn(len(specs), model.enc_q.out_channels, length) * sequence_mask(lengths, length).unsqueeze(1)
    batch = {"spec": spec, "spec_lengths": lengths, "g_src": torch.cat(g_src), "g_tgt": torch.cat(g_tgt), "tau": TAU, "eps_q": noise}
    alone = [_item_alone(batch, b) for b in range(len(specs))]
    return {"batch": _reference_case(model, batch), "alone": [_reference_case(model, item) for item in alone]}


def _item_alone(batch: dict, b: int) -> dict:
    """Inputs of batch item b alone (B=1), cut to its own length."""
    n = int(batch["spec_lengths"][b])
    one = lambda name: batch[name][b : b + 1]  # noqa: E731
    return {"spec": one("spec")[..., :n], "spec_lengths": one("spec_lengths"), "g_src": one("g_src"),
            "g_tgt": one("g_tgt"), "tau": batch["tau"], "eps_q": one("eps_q")[..., :n]}  # fmt: skip


def _reference_case(model: ToneColorConverter, i: dict) -> Case:
    with torch.inference_mode():
        outputs = model.voice_conversion(i["spec"], i["spec_lengths"], i["g_src"], i["g_tgt"], tau=i["tau"], noise=i["eps_q"])
    return Case(model, i, outputs)


def _leak_free_samples(batch_audio: torch.Tensor, alone_audio: torch.Tensor) -> int:
    """Samples from the start where the REFERENCE's batched item equals the item run alone: the
    unmasked decoder lets the zero padding leak into the last frames of a shorter item."""
    n = alone_audio.shape[-1]
    differs = (batch_audio[..., :n] - alone_audio).abs().flatten() > 1e-5 * float(alone_audio.abs().max())
    return int(differs.nonzero()[0]) if bool(differs.any()) else n


@DEVICE
def test_batch_items_match_alone_and_reference(device, real_batch: dict) -> None:
    """Public entry points on a B=3 batch of real clips with different lengths (45/29/37 frames)
    AND speakers: `prepare_inputs` + `forward_all` on the batch, `voice_conversion` on each item
    alone (B=1). Per item: batch vs reference, alone vs reference, batch vs alone. Swapped batch
    items, a speaker embedding applied to the wrong item, or padding leaking into the valid
    frames of a shorter item fail here."""
    case, alone = real_batch["batch"], real_batch["alone"]
    tt = TtToneColorConverter(device, case.model)
    inputs = case.upload(tt)
    out = tt.forward_all(inputs)
    lengths = case.inputs["spec_lengths"]
    batch_latents = {name: _down(getattr(out, name), 3) for name in LATENTS}
    for name in LATENTS:
        # measured (mock, worst item) z 0.999983, m_q 0.999969, logs_q 0.999972, z_p 0.999981, z_hat 0.999970,
        # max_rel <= 1.25e-2, padded frames exactly 0
        _check(device, MODULE_OF[name], case.outputs[name], batch_latents[name], lengths)
    batch_audio = _down(out.audio, 3)  # measured 0.999993 / 7.2e-3 per item, padded tail 6.5e-3
    _check(device, "audio", case.outputs["audio"], batch_audio, _audio_lengths(lengths, tt.hop), padded="match")

    alone_bar = bar(device, "batch_vs_alone")
    for b, item in enumerate(alone):
        i = item.inputs
        audio = tt.voice_conversion(i["spec"], i["spec_lengths"], i["g_src"], i["g_tgt"], i["tau"], i["eps_q"])
        _check(device, "audio", item.outputs["audio"], audio)  # alone vs reference; measured 0.999993 / 7.2e-3
        n = _leak_free_samples(case.outputs["audio"][b : b + 1], item.outputs["audio"])
        assert n >= (int(lengths[b]) - 16) * tt.hop, f"item {b}: the reference's batch leak reaches {n} samples"
        # The device batch item vs the device item alone, where the reference says they are equal.
        # measured (mock) PCC >= 0.999999, max_rel <= 1.24e-3; bar 0.99999 / 0.003
        assert_items_close(f"audio item {b} batch vs alone", audio[..., :n], batch_audio[b : b + 1, :, :n],
                           pcc=alone_bar.pcc, max_rel=alone_bar.max_rel)  # fmt: skip


@DEVICE
def test_forward_has_no_host_round_trip(device, shared_data: Path) -> None:
    """After the first call (which prepares conv weights per input shape), forward is device only.
    The first call is the torch API `voice_conversion` (upload, forward, download) on the B=2 golden."""
    case = golden_case(shared_data, "vc_small_b2")
    tt = TtToneColorConverter(device, case.model)
    i = case.inputs
    audio = tt.voice_conversion(i["spec"], i["spec_lengths"], i["g_src"], i["g_tgt"], i["tau"], i["eps_q"])
    # measured (mock) 0.999802 / 1.85e-2 per item, as test_end_to_end_golden
    _check(device, "audio", case.outputs["audio"], audio, _audio_lengths(i["spec_lengths"], tt.hop), padded="match")
    inputs = case.upload(tt)
    report = capture(tt.forward, inputs)
    assert_no_host_round_trip(report)
    assert len(report.operations) > 0
    assert_with_pcc(case.outputs["audio"], _down(report.result, 2), bar(device, "audio").pcc)


@DEVICE
def test_cold_forward_at_a_new_length_only_uploads(device, shared_data: Path) -> None:
    """The FIRST forward at a new input length prepares the conv weights for that shape: ttnn
    0.81.1 does it on the host, so the call uploads prepared weights/biases and conv config
    tensors (host->device), but it never reads anything back (no to_torch, Tensor::cpu or
    from_device), and its audio is right. Warm calls make no transfer at all (next test)."""
    case = golden_case(shared_data, "vc_small_b2")
    tt = TtToneColorConverter(device, case.model)
    inputs = case.upload(tt)
    report = capture(tt.forward, inputs)  # cold: nothing prepared for this shape yet
    assert report.num_host_transfers > 0, "a cold call must upload the prepared conv weights"
    assert device_to_host_transfers(report) == [], report.host_transfers
    logger.info(f"cold converter forward: {report.num_host_transfers} host->device uploads, no read-back")
    assert_with_pcc(case.outputs["audio"], _down(report.result, 2), bar(device, "audio").pcc)
    warm = capture(tt.forward, inputs)
    assert_no_host_round_trip(warm)


# ---- host-only proofs of the load-time folds ----------------------------------------------


def test_flow_folding_is_exact(shared_data: Path) -> None:
    """Coupling layers on the full channel vector with zero-padded pre/post weights and the
    flips folded into them == the reference flow (split, unmasked x0, flip), in float64, on
    masked input of a B=2 batch with different lengths; forward and reverse."""
    model = golden_case(shared_data, "vc_small_tau0").model.double()  # odd half width (24)
    flow = model.flow
    couplings = list(flow.flows)[::2]
    torch.manual_seed(0)
    channels, frames = 2 * couplings[0].half_channels, 37
    mask = sequence_mask(torch.tensor([37, 20]), frames).unsqueeze(1).double()
    x = torch.randn(2, channels, frames, dtype=torch.float64) * mask
    g = torch.randn(2, couplings[0].enc.gin_channels, 1, dtype=torch.float64)

    def folded(x: torch.Tensor, reverse: bool) -> torch.Tensor:
        order = list(enumerate(couplings))
        for index, layer in reversed(order) if reverse else order:
            pre_w, pre_b, post_w, post_b = full_channel_weights(layer, flipped=index % 2 == 1)
            h = F.conv1d(x, pre_w, pre_b) * mask
            h = layer.enc(h, mask, g=g)
            m = F.conv1d(h, post_w, post_b) * mask
            x = x - m if reverse else x + m
        return x

    with torch.inference_mode():
        forward = flow(x, mask, g=g)
        torch.testing.assert_close(folded(x, reverse=False), forward, rtol=0, atol=1e-12)
        reverse = flow(forward, mask, g=g, reverse=True)
        torch.testing.assert_close(folded(forward, reverse=True), reverse, rtol=0, atol=1e-12)
