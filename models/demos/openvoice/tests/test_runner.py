# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""runner/: converter and clone forwards on persistent device buffers per shape bucket, traced on a card. Here
(the mock cannot replay a trace) a region runs eagerly, and graph capture proves it trace-safe: no host
transfer, the same op sequence and the same buffers at the same addresses on two requests with different
inputs, the persistent inputs written in place. Also the converter data parallel on the N300 mesh."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import ttnn

from models.demos.openvoice.runner.clone_runner import CloneRunner
from models.demos.openvoice.runner.converter_runner import ConverterRunner
from models.demos.openvoice.runner.melo_runner import MeloRunner
from models.demos.openvoice.tt.buckets import MELO_FRAMES, bucket_length
from models.demos.openvoice.tt.melo_tts import TtMeloDecodeInputs, TtMeloTTS
from models.demos.openvoice.tests.helpers import (
    DEVICE,
    assert_items_close,
    bar,
    check_module,
    clip_path,
    converter_golden,
    item_alone,
    melo_golden,
    reference_encoder,
    requires_device,
)
from models.demos.openvoice.tt.reference_encoder import TtSpeakerEncoder
from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.tt.spectrogram import TtSpectrogram
from models.demos.openvoice.utils.audio import load_audio
from models.demos.openvoice.tt.tone_color_converter import TtToneColorConverter
from models.demos.openvoice.utils.graph_report import assert_no_host_round_trip, capture

TRACE_DEVICE = pytest.mark.parametrize(
    "device_params", [{"l1_small_size": 16384, "trace_region_size": 64 << 20, "num_command_queues": 2}], indirect=True
)


def _requests(case) -> list[tuple]:
    """vc_small_b2 as recorded, then the same shapes with other content (scaled spec, swapped speakers, new noise)."""
    i = case.inputs
    first = (i["spec"], i["spec_lengths"], i["g_src"], i["g_tgt"], i["tau"], i["eps_q"])
    noise = torch.randn(i["eps_q"].shape, generator=torch.Generator().manual_seed(1))
    second = (i["spec"] * 0.5, i["spec_lengths"], i["g_tgt"], i["g_src"], i["tau"], noise)
    return [first, second]


def _allocations(graph: list[dict]) -> list[tuple[int, int]]:
    return [(n["params"]["address"], n["params"]["size"]) for n in graph if n.get("node_type") == "buffer_allocate"]


@DEVICE
def test_runner_equals_the_direct_conversion(device, shared_data: Path) -> None:
    """Two requests of one shape through one region: each equals `voice_conversion(bucket=True)` of the same
    request bit for bit (mock), so every input reaches its persistent buffer (a stale input fails the second)."""
    case = converter_golden(shared_data, "vc_small_b2")
    tt = TtToneColorConverter(device, case.model)
    runner = ConverterRunner(tt)
    for request in _requests(case):
        expected = tt.voice_conversion(*request, bucket=True)
        actual = runner(*request)
        assert actual.shape == expected.shape == (2, 1, 40 * tt.hop)
        assert torch.equal(actual, expected)
    assert list(runner.regions) == [(2, 64, False)]


def _assert_trace_safe(runner: ConverterRunner, hosts: list) -> None:
    """The regions of `hosts` (one shape, different contents), each captured once warm: no host transfer, the
    same ops, the same (address, size) of every buffer allocated; the writes keep every input at its address."""
    reports, addresses = [], []
    for host in hosts:
        region = runner.region(host)
        addresses.append([t.buffer_address() for t in region.inputs.device_tensors().values()])
        runner.execute(region)  # first run at this shape prepares conv weights (uploads): not the traced call
        ttnn.synchronize_device(runner.device)  # the previous output is gone, as a trace's outputs are its own buffers
        report = capture(runner.execute, region)
        report.result = None
        reports.append(report)
    for report in reports:
        assert_no_host_round_trip(report)
    assert reports[0].operations == reports[1].operations
    assert _allocations(reports[0].graph) == _allocations(reports[1].graph) != []
    assert addresses[0] == addresses[1]
    assert len(runner.regions) == 1


@DEVICE
def test_region_is_trace_safe(device, shared_data: Path) -> None:
    """The region a trace would hold, from spectrograms, captured on two requests with different inputs."""
    case = converter_golden(shared_data, "vc_small_b2")
    tt = TtToneColorConverter(device, case.model)
    runner = ConverterRunner(tt, traced=False)
    _assert_trace_safe(runner, [tt.prepare_inputs(*request, bucket=True, on_host=True) for request in _requests(case)])


def _waveform_requests(converter, batch: int) -> list[tuple]:
    """Two requests of `batch` clips (distinct windows of real speech, lengths 0.4-0.7 s: one 64-frame bucket)."""
    audio = torch.from_numpy(load_audio(clip_path("hello_world"), 22050))
    requests = []
    for r in range(2):
        lengths = [9000 + 2000 * ((b + r) % 3) for b in range(batch)]
        waveforms = [audio[3000 * b + 500 * r :][:n] for b, n in enumerate(lengths)]
        g = torch.randn(batch, converter.ref_enc.proj.out_features, 1, generator=torch.Generator().manual_seed(r))
        noises = [torch.randn(1, converter.enc_q.out_channels, n // 256, generator=torch.Generator().manual_seed(10 * r + b)) for b, n in enumerate(lengths)]
        requests.append((waveforms, g, g.flip(0), [0.3] * batch, noises))
    return requests


@DEVICE
def test_waveform_region_is_trace_safe(device, shared_data: Path) -> None:
    """The served region (waveforms in, the STFT inside): trace-safe on two batches of different clips."""
    case = converter_golden(shared_data, "vc_small_b2")
    tt = TtToneColorConverter(device, case.model, spectrogram=TtSpectrogram(device))
    runner = ConverterRunner(tt, traced=False)
    _assert_trace_safe(runner, [tt.prepare_batch(*request, on_host=True) for request in _waveform_requests(case.model, 3)])


# ---- the clone path: a reference padded to its frame bucket, masked per conv and per GRU step ----


def _clone_windows() -> list[torch.Tensor]:
    """Two windows of real speech, 169 and 187 frames: one 224-frame bucket (4 GRU steps) where each has 3 valid
    steps and its own valid conv heights."""
    audio = torch.from_numpy(load_audio(clip_path("jfk"), 22050))
    return [audio[20000:63500], audio[60000:108000]]


@DEVICE
def test_clone_runner_equals_the_unpadded_clone(device) -> None:
    """Each window through the clone runner (padded to 224 frames, conv inputs and the 4th GRU step masked) equals
    its unpadded clone (measured: bit for bit on the mock), and both share one region."""
    encoder = TtSpeakerEncoder(device, reference_encoder())
    runner = CloneRunner(encoder)
    for waveform in _clone_windows():
        expected = ttnn.to_torch(encoder(encoder.upload(waveform))).float().reshape(1, -1, 1)
        actual = ttnn.to_torch(runner.embedding(waveform)).float().reshape(1, -1, 1)
        check_module(device, "batch_vs_alone", expected, actual)  # measured 0 / 0 (mock)
    assert list(runner.regions) == [224]


@DEVICE
def test_clone_region_is_trace_safe(device) -> None:
    """The clone region on two references of different lengths in one bucket: trace-safe (see above)."""
    encoder = TtSpeakerEncoder(device, reference_encoder())
    _assert_trace_safe(CloneRunner(encoder, traced=False), [encoder.prepare_inputs(w, on_host=True) for w in _clone_windows()])


# ---- MeloTTS: two regions around the one sync, T_x and T_y padded to their buckets ----
MELO_INPUTS = ("x", "x_lengths", "sid", "tone", "language", "bert", "ja_bert")


def _melo_host(tt: TtMeloTTS, inputs: dict):
    """tts_small_b3's recorded request, padded to its token bucket, on the host (what the runner copies in)."""
    return tt.prepare_inputs(
        *(inputs[k] for k in MELO_INPUTS), float(inputs["noise_scale_w"]), inputs["eps_sdp"], bucket=True, on_host=True,
        sdp_ratio=float(inputs["sdp_ratio"]), length_scale=float(inputs["length_scale"]),
    )  # fmt: skip


def _melo_unbucketed(tt: TtMeloTTS, inputs: dict) -> tuple[torch.Tensor, list[int]]:
    uploaded = tt.prepare_inputs(*(inputs[k] for k in MELO_INPUTS), float(inputs["noise_scale_w"]), inputs["eps_sdp"])
    s = {k: float(inputs[k]) for k in ("noise_scale", "length_scale", "sdp_ratio")}
    out = tt.infer_all(uploaded, s["noise_scale"], s["length_scale"], s["sdp_ratio"], inputs["eps_p"], mask_decoder=True)
    return tt.download_audio(out, uploaded.batch_size), out.y_lengths


@DEVICE
def test_melo_runner_equals_the_unbucketed_infer(device) -> None:
    """tts_small_b3 through the MeloTTS runner (T_x padded to its token bucket, T_y to its frame bucket, the
    decoder masked), then a second request of the same shapes (other speakers and draws) through the same two
    regions: the same y_lengths as the unbucketed masked infer (integer durations, exact) and every item's audio,
    first and last frames included, equal to it at the batch-vs-alone bar."""
    model, inputs, _ = melo_golden("tts_small_b3")
    tt = TtMeloTTS(device, model)
    runner = MeloRunner(tt)
    limits = bar(device, "melo_batch_vs_alone")  # measured (mock): every item bit for bit equal, both requests
    for request in (inputs, _other_request(inputs)):
        host = _melo_host(tt, request)
        expected, expected_lengths = _melo_unbucketed(tt, request)
        audio, y_lengths = runner.infer(host, float(request["noise_scale"]), request["eps_p"])
        assert y_lengths == expected_lengths
        assert host.length > request["x"].shape[1] and audio.shape[-1] > expected.shape[-1]  # both padded for real
        samples = [n * tt.hop for n in y_lengths]
        assert_items_close(
            "melo bucketed vs unbucketed", expected, audio[..., : expected.shape[-1]], samples,
            pcc=limits.pcc, max_rel=limits.max_rel, padded="ignore",
        )  # fmt: skip
    assert len(runner.encode.regions) == 1


def _other_request(inputs: dict) -> dict:
    """The recorded request with the speakers reversed and new duration and prior draws (same shapes)."""
    eps_sdp = torch.randn(inputs["eps_sdp"].shape, generator=torch.Generator().manual_seed(3))

    def eps_p(y_lengths, channels):
        return torch.randn(len(y_lengths), channels, max(y_lengths), generator=torch.Generator().manual_seed(4))

    return dict(inputs, sid=inputs["sid"].flip(0), eps_sdp=eps_sdp, eps_p=eps_p)


@DEVICE
def test_melo_regions_are_trace_safe(device) -> None:
    """Both MeloTTS regions on two requests of one shape (the recorded one, then other draws and another speaker):
    each region trace-safe, the decode region reading the encode region's outputs."""
    model, inputs, _ = melo_golden("tts_small_b3")
    tt = TtMeloTTS(device, model)
    runner = MeloRunner(tt)
    hosts = [_melo_host(tt, inputs), _melo_host(tt, _other_request(inputs))]
    _assert_trace_safe(_Keyed(runner.encode, lambda h: (h.batch_size, h.length, h.sdp_ratio, h.length_scale)), hosts)
    encode_region = next(iter(runner.encode.regions.values()))
    encoded = runner.encode.execute(encode_region)
    frames = bucket_length(max(tt.length_regulator.read_lengths(encoded.durations)), MELO_FRAMES)
    decode_hosts = [
        TtMeloDecodeInputs(encoded, ttnn.from_torch(torch.randn(1, 1, 3 * frames, tt.inter_channels, generator=torch.Generator().manual_seed(s)), dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT), frames)
        for s in (1, 2)
    ]  # fmt: skip
    _assert_trace_safe(_Keyed(runner.decode, lambda h: (encode_region.serial, h.frames)), decode_hosts)


class _Keyed:
    """A `Regions` with `region(host)` (what `_assert_trace_safe` calls), keyed by `key(host)`."""

    def __init__(self, regions, key) -> None:
        self.inner, self.key = regions, key
        self.device, self.regions, self.execute = regions.device, regions.regions, regions.execute

    def region(self, host):
        return self.inner.region_for(host, self.key(host))


# ---- N300: the converter data parallel over the 1x2 mesh (weights replicated, each chip B / 2 items) ----
N300 = pytest.mark.parametrize("mesh_device", [2], indirect=True)


@N300
@pytest.mark.parametrize("device_params", [{"l1_small_size": 16384}], indirect=True)
def test_mesh_items_equal_one_chip(mesh_device, shared_data: Path) -> None:
    """3 requests on the 1x2 mesh (2 items per chip, one a silent filler), twice with other contents: every item
    -- chip 1's too -- equals the item alone, which runs on chip 0 by itself (B=1: the single-chip program; a card
    cannot hold a mesh and a separate chip-0 device in one process), first and last frames included, and the
    float32 reference at the audio bar; the mesh region is trace-safe like the single chip's."""
    case = converter_golden(shared_data, "vc_small_b2")
    tt = TtToneColorConverter(mesh_device, case.model, spectrogram=TtSpectrogram(mesh_device))
    runner = ConverterRunner(tt)
    alone_bar, audio_bar = bar(mesh_device, "served_batch_vs_alone"), bar(mesh_device, "audio")
    for waveforms, g_src, g_tgt, taus, noises in _waveform_requests(case.model, 3):
        items = runner.convert_batch(waveforms, g_src, g_tgt, taus, noises)
        assert tt.chips == 2 and list(runner.regions)[-1][0] == 2  # the forward's shapes: 2 items per chip
        for b, item in enumerate(items):
            alone = runner.convert_batch([waveforms[b]], g_src[b : b + 1], g_tgt[b : b + 1], taus[b : b + 1], noises[b : b + 1])[0]
            spec = spectrogram(waveforms[b][None])
            reference = case.model.voice_conversion(spec, torch.tensor([spec.shape[-1]]), g_src[b : b + 1], g_tgt[b : b + 1], taus[b], noises[b])
            assert item.shape == alone.shape == reference.audio[0, 0].shape == (waveforms[b].numel() // 256 * 256,)
            # measured (mock): vs alone worst 1 - PCC 5.4e-5, max_rel 9.7e-3; vs the reference within the audio bar
            assert_items_close(f"mesh item {b} vs alone", alone[None, None], item[None, None], pcc=alone_bar.pcc, max_rel=alone_bar.max_rel)
            assert_items_close(f"mesh item {b} vs reference", reference.audio, item[None, None], pcc=audio_bar.pcc, max_rel=audio_bar.max_rel)
    _assert_trace_safe(ConverterRunner(tt, traced=False), [tt.prepare_batch(*r, on_host=True) for r in _waveform_requests(case.model, 3)])


@N300
@pytest.mark.parametrize("device_params", [{"l1_small_size": 16384}], indirect=True)
def test_mesh_melo_items_equal_each_alone(mesh_device) -> None:
    """tts_small_b3 (3 items) through the MeloTTS runner on the 1x2 mesh: 2 items per chip (item 2 and a one-token
    filler on chip 1), T_y the longest over both chips; the same y_lengths as the reference and every item's
    audio equal to the item alone (which runs on chip 0 by itself: the single-chip program) at the batch-vs-alone
    bar, and to the reference's masked audio at the audio bar."""
    model, inputs, _ = melo_golden("tts_small_b3")
    tt = TtMeloTTS(mesh_device, model)
    runner = MeloRunner(tt)
    host = _melo_host(tt, inputs)
    assert tt.chips == 2 and host.batch_size == 2 and host.items == 3
    audio, y_lengths = runner.infer(host, float(inputs["noise_scale"]), inputs["eps_p"])
    with torch.inference_mode():
        reference = model.infer(
            *(inputs[k] for k in MELO_INPUTS), **{k: float(inputs[k]) for k in ("noise_scale", "length_scale", "noise_scale_w", "sdp_ratio")},
            eps_sdp=inputs["eps_sdp"], eps_p=inputs["eps_p"], mask_decoder=True,
        )  # fmt: skip
    assert y_lengths == reference.y_lengths.tolist() and audio.shape[0] == 3
    alone_bar, audio_bar = bar(mesh_device, "melo_batch_vs_alone"), bar(mesh_device, "melo_audio")
    for b, n_y in enumerate(y_lengths):
        request = item_alone(inputs, b, n_y)
        alone, (alone_length,) = runner.infer(_melo_host(tt, request), float(request["noise_scale"]), request["eps_p"])
        assert alone_length == n_y
        n = n_y * tt.hop
        # measured (mock): vs alone worst 1 - PCC 5.7e-6, max_rel 1.47e-2 (item 2); vs the reference 5.2e-6 / 1.17e-2
        assert_items_close(f"mesh melo item {b} vs alone", alone[..., :n], audio[b : b + 1, :, :n], pcc=alone_bar.pcc, max_rel=alone_bar.max_rel)
        assert_items_close(f"mesh melo item {b} vs reference", reference.audio[b : b + 1, :, :n], audio[b : b + 1, :, :n], pcc=audio_bar.pcc, max_rel=audio_bar.max_rel)


@requires_device
@TRACE_DEVICE
def test_traced_equals_eager(device, shared_data: Path) -> None:
    """Card: the traced regions (two command queues) against the eager forward on the same requests: the converter,
    the clone and MeloTTS's two regions."""
    case = converter_golden(shared_data, "vc_small_b2")
    tt = TtToneColorConverter(device, case.model)
    traced, eager = ConverterRunner(tt, traced=True), ConverterRunner(tt, traced=False)
    for request in _requests(case):
        torch.testing.assert_close(traced(*request), eager(*request), rtol=0, atol=1e-3)
    traced.release()
    encoder = TtSpeakerEncoder(device, reference_encoder())
    traced, eager = CloneRunner(encoder, traced=True), CloneRunner(encoder, traced=False)
    for waveform in _clone_windows():
        expected = ttnn.to_torch(eager.embedding(waveform)).float()
        torch.testing.assert_close(ttnn.to_torch(traced.embedding(waveform)).float(), expected, rtol=0, atol=1e-3)
    traced.release()
    model, inputs, _ = melo_golden("tts_small_b3")
    tt = TtMeloTTS(device, model)
    traced, eager = MeloRunner(tt, traced=True), MeloRunner(tt, traced=False)
    for request in (inputs, _other_request(inputs)):
        expected, expected_lengths = eager.infer(_melo_host(tt, request), float(request["noise_scale"]), request["eps_p"])
        audio, y_lengths = traced.infer(_melo_host(tt, request), float(request["noise_scale"]), request["eps_p"])
        assert y_lengths == expected_lengths
        torch.testing.assert_close(audio, expected, rtol=0, atol=1e-3)
    traced.release()
