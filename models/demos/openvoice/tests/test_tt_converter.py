"""TTNN tone-colour converter (tt/) against the float32 reference and the golden vectors.

Per module (posterior encoder, flow forward, flow reverse, decoder) each TT module gets
the reference's own input, so its PCC is its own error; end to end chains them all.
Release config (real 513-bin spectrogram of 3 s of speech, real V2 base-speaker
embeddings, seeded random weights) and the two golden folders (upstream outputs).

Thresholds: `helpers.module_pcc` per module / latent and `helpers.audio_pcc` for audio (the
project's bars and their reasons are defined there once).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import ttnn
from loguru import logger

from models.demos.openvoice.common.audio import load_audio
from models.demos.openvoice.common.config import load_config
from models.demos.openvoice.reference.commons import sequence_mask
from models.demos.openvoice.reference.generator import Generator
from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter, VoiceConversionOutput
from models.demos.openvoice.tests.helpers import audio_pcc, device_to_host_transfers, module_pcc
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


# ---- per module, release config -------------------------------------------------------


@DEVICE
def test_posterior_encoder(device, release: Case) -> None:
    tt = TtToneColorConverter(device, release.model)
    z, m_q, logs_q = tt.encode(release.upload(tt))
    for name, value in (("z", z), ("m_q", m_q), ("logs_q", logs_q)):
        pcc = assert_with_pcc(release.outputs[name], _down(value, 1), module_pcc(device))
        logger.info(f"posterior encoder {name}: PCC {pcc:.6f}")


@DEVICE
@pytest.mark.parametrize(
    "stage, given, produced",
    [("flow_forward", "z", "z_p"), ("flow_reverse", "z_p", "z_hat"), ("decode", "z_hat", "audio")],
)
def test_stage_on_reference_input(device, release: Case, stage: str, given: str, produced: str) -> None:
    """Flow forward, flow reverse and generator, each fed the reference's own input."""
    tt = TtToneColorConverter(device, release.model)
    output = getattr(tt, stage)(release.upload(tt), _up(device, release.outputs[given]))
    pcc = assert_with_pcc(release.outputs[produced], _down(output, 1), module_pcc(device))
    logger.info(f"{stage} {produced}: PCC {pcc:.6f}")


@DEVICE
def test_generator_resblock2_conditioned(device) -> None:
    """ResBlock2 decoder (HiFi-GAN V3 blocks), other rates/kernels, with speaker conditioning
    (not zero_g) per batch item: B=2, 37 frames."""
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
    assert_with_pcc(expected, _down(audio, 2), module_pcc(device))


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
    expected = (segments @ g @ weight[:, :, 0].t()).reshape(1, 1, b * t, co)
    assert_with_pcc(expected, ttnn.to_torch(report.result).float(), module_pcc(device))


# ---- end to end -----------------------------------------------------------------------


def _check_end_to_end(device, case: Case, compare_latents: bool = True) -> dict[str, float]:
    tt = TtToneColorConverter(device, case.model)
    inputs = case.upload(tt)
    out = tt.forward_all(inputs)
    b = inputs.batch_size
    pccs = {}
    if compare_latents:
        for name in LATENTS:
            pccs[name] = assert_with_pcc(case.outputs[name], _down(getattr(out, name), b), module_pcc(device))
    # Whole tensor, padded tail included: the decoder is unmasked in the reference too.
    pccs["audio"] = assert_with_pcc(case.outputs["audio"], _down(out.audio, b), audio_pcc(device))
    logger.info("end to end PCC: " + ", ".join(f"{k} {v:.6f}" for k, v in pccs.items()))
    return pccs


@DEVICE
def test_end_to_end_release(device, release: Case) -> None:
    _check_end_to_end(device, release)


@DEVICE
@pytest.mark.parametrize("name", ["vc_small_b2", "vc_small_tau0"])
def test_end_to_end_golden(device, shared_data: Path, name: str) -> None:
    """Upstream's recorded outputs (vc_small_b2: B=2 with lengths 40 and 27; vc_small_tau0:
    tau = 0, inter_channels 48 so the coupling halves are not tile aligned)."""
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
    _check_end_to_end(device, Case(case.model, i, outputs))


@DEVICE
def test_voice_conversion_torch_api(device, shared_data: Path) -> None:
    case = golden_case(shared_data, "vc_small_b2")
    i = case.inputs
    tt = TtToneColorConverter(device, case.model)
    audio = tt.voice_conversion(i["spec"], i["spec_lengths"], i["g_src"], i["g_tgt"], i["tau"], i["eps_q"])
    assert audio.shape == case.outputs["audio"].shape
    assert_with_pcc(case.outputs["audio"], audio, audio_pcc(device))


@DEVICE
def test_forward_has_no_host_round_trip(device, shared_data: Path) -> None:
    """After the first call (which prepares conv weights per input shape), forward is device only."""
    case = golden_case(shared_data, "vc_small_b2")
    tt = TtToneColorConverter(device, case.model)
    inputs = case.upload(tt)
    tt.forward(inputs)
    report = capture(tt.forward, inputs)
    assert_no_host_round_trip(report)
    assert len(report.operations) > 0
    assert_with_pcc(case.outputs["audio"], _down(report.result, 2), audio_pcc(device))


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
    assert_with_pcc(case.outputs["audio"], _down(report.result, 2), audio_pcc(device))
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
