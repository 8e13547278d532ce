# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Concurrent requests on one shared `VoiceCloner` (a server's request handlers), reference and TTNN backend.

What this checks: requests arriving from many threads at once reach the one device queue one batch at a
time (the backend's lock: at most one thread inside a device forward; conversions arriving while the
device is busy are GATHERED into one device batch by the cloner's batcher, runner/batcher.py), every
request gets what it gets in a sequential run (embeddings bit for bit; converted audio bit for bit on the
reference, at the batch-vs-alone bar on the device, where ttnn picks a conv's blocking from the batch's
rows), no thread hangs, far fewer device forwards than requests, and device memory is bounded. What it
cannot check: device ops entered by several threads at once -- the product never does that, and
whether ttnn's dispatch would tolerate it is a property of a card's runtime, not of the port. (The
mock itself is safe for threads entering ops concurrently: mock_wormhole/shadow.py serialises ops,
tests/mock_wormhole/test_mock_device.py::test_threads_issue_ops_concurrently.)

* 10 threads, each one clone (`extract_se` of its own reference) + one convert (a source clip re-voiced
  to the cloned speaker), all at once on ONE device: every thread gets what a sequential run gives, no
  thread hangs (joins have a timeout that fails the test), and the device's allocated DRAM / L1 /
  L1_SMALL (`ttnn.get_memory_view`, the allocator's own count) is the same after a second concurrent
  round as after the first: nothing grows per request (each new batch shape adds its runner region once).
* 10 conversions at once (the clones done before): at most 3 device forwards instead of 10 (batches of
  at most `MAX_BATCH` = 8), each item checked against its sequential result at the first and last frame.
* Threads sharing a cloner with repeated references get the embedding each clip gets alone, and the
  repeats are cache hits.

Models: the golden converter `golden/vc_small_b2` (official checkpoint format, gin 64) and the REAL
reference encoder (gin 256) on real clips. The converter's speaker space is 64-d, so a request feeds the
first 64 channels of its cloned embedding as the target speaker: the audio still depends on the clone,
so a clone mixed up between threads changes the audio too. All references have one length and all
sources another (distinct 1 s / 0.75 s windows of the clips): every request runs the same programs,
which keeps the test fast on the mock and makes memory comparable across rounds.
"""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import torch
import ttnn

from models.demos.openvoice.utils.audio import load_audio
from models.demos.openvoice.utils.config import load_config
from models.demos.openvoice.demo.backends import ConversionRequest, ReferenceBackend
from models.demos.openvoice.demo.pipeline import MAX_BATCH, SpeakerEmbeddingCache, VoiceCloner
from models.demos.openvoice.reference.spectrogram import spectrogram_lengths
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter
from models.demos.openvoice.tests.helpers import CONFIG, SAMPLING_RATE, assert_items_close, bar, clip_path, reference_encoder
from models.demos.openvoice.demo.backends import TtnnBackend
from models.demos.openvoice.utils.device import L1_SMALL_SIZE
from models.demos.openvoice.tests.shared_data import require_shared_data

GOLDEN = "golden/vc_small_b2"
NUM_REQUESTS = 10
REFERENCE_SECONDS = 1.0
SOURCE_SECONDS = 0.75
TAU = 0.3
JOIN_TIMEOUT_S = 120.0  # a deadlock fails here instead of hanging the run (10 requests take ~10 s on the mock)
CLIPS = ("hello_world", "one_two_three", "counting", "quick_brown_fox", "jfk")
REPEATED_CLIPS = ["hello_world", "one_two_three", "counting", "quick_brown_fox"]


@dataclass(frozen=True)
class Request:
    reference: np.ndarray  # 1 s at 22.05 kHz
    source: np.ndarray  # 0.75 s at 22.05 kHz
    noise: torch.Tensor  # posterior draw [1, inter, T_spec]: fixed, so a run is deterministic


@dataclass
class Result:
    embedding: torch.Tensor
    audio: np.ndarray


def _window(audio: np.ndarray, seconds: float, start_fraction: float) -> np.ndarray:
    n = int(seconds * SAMPLING_RATE)
    start = int((audio.size - n) * start_fraction)
    return np.ascontiguousarray(audio[start : start + n])


def _requests(inter_channels: int, n_fft: int, hop: int) -> list[Request]:
    """10 distinct requests: reference = clip i % 5 (start or end of it), source = the next clip's middle."""
    audio = [load_audio(clip_path(name), SAMPLING_RATE) for name in CLIPS]
    generator = torch.Generator().manual_seed(0)
    requests = []
    for i in range(NUM_REQUESTS):
        reference = _window(audio[i % len(CLIPS)], REFERENCE_SECONDS, 0.0 if i < len(CLIPS) else 1.0)
        source = _window(audio[(i + 1) % len(CLIPS)], SOURCE_SECONDS, 0.5)
        frames = int(spectrogram_lengths([source.size], n_fft, hop)[0])
        noise = torch.randn(1, inter_channels, frames, generator=generator)
        requests.append(Request(reference, source, noise))
    return requests


def _serve(cloner: VoiceCloner, request: Request, g_src: torch.Tensor) -> Result:
    """One request as a handler runs it: clone the reference, convert the source to that voice."""
    embedding = cloner.extract_se([request.reference])
    gin = cloner.config.model.gin_channels
    audio = cloner.convert(request.source, g_src, embedding[:, :gin].contiguous(), tau=TAU, noise=request.noise)
    return Result(embedding, audio)


def _run_threads(jobs: list[Callable[[], Result]]) -> list[Result]:
    """Start every job on its own thread at once (a barrier lines them up); fail on any hang or error."""
    results: list[Result | None] = [None] * len(jobs)
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(jobs))

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=JOIN_TIMEOUT_S)
            results[index] = jobs[index]()
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    # daemon: a deadlocked thread must not keep the interpreter alive after the test fails
    threads = [threading.Thread(target=run, args=(i,), daemon=True, name=f"request-{i}") for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOIN_TIMEOUT_S  # one deadline for all joins, not one per thread
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    hung = [thread.name for thread in threads if thread.is_alive()]
    assert not hung, f"deadlock: {hung} still running after {JOIN_TIMEOUT_S} s"
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]


def _fresh_cloner(cloner: VoiceCloner, name: str, **batching: float) -> VoiceCloner:
    """Same backend (same device and models), empty embedding cache: every clone really runs."""
    return VoiceCloner(cloner.config, cloner.backend, SpeakerEmbeddingCache(name), **batching)


def _check_same(i: int, alone: Result, together: Result, device=None) -> None:
    """Embeddings bit for bit; audio bit for bit on the reference, at the batch-vs-alone bar on the device."""
    assert torch.equal(together.embedding, alone.embedding), f"request {i}: embedding differs from the sequential run"
    if device is None:
        assert np.array_equal(together.audio, alone.audio), f"request {i}: audio differs from the sequential run"
        return
    limits = bar(device, "served_batch_vs_alone")  # measured worst (mock, B=8): 1 - PCC 4.5e-5, max_rel 1.19e-2
    assert_items_close(f"request {i} batched vs alone", alone.audio[None, None], together.audio[None, None], pcc=limits.pcc, max_rel=limits.max_rel)


def _setup(cloner: VoiceCloner) -> tuple[list[Request], torch.Tensor]:
    d = cloner.config.data
    requests = _requests(cloner.backend.converter.enc_q.out_channels, d.filter_length, d.hop_length)
    g_src = torch.load(require_shared_data() / GOLDEN / "case.pt", weights_only=False)["inputs"]["g_src"][:1]
    return requests, g_src


def _concurrent_requests_equal_sequential(
    cloner: VoiceCloner, on_round: Callable[[str], None] = lambda _: None, device=None
) -> None:
    requests, g_src = _setup(cloner)
    sequential_cloner = _fresh_cloner(cloner, "sequential")
    sequential = [_serve(sequential_cloner, r, g_src) for r in requests]
    assert sequential_cloner.conversions.batch_sizes == [1] * NUM_REQUESTS  # one at a time: one forward each
    assert len({tuple(r.embedding.flatten()[:4].tolist()) for r in sequential}) == NUM_REQUESTS  # distinct speakers
    for round_ in ("concurrent", "concurrent again"):
        shared = _fresh_cloner(cloner, round_)
        concurrent = _run_threads([lambda r=r: _serve(shared, r, g_src) for r in requests])
        for i, (alone, together) in enumerate(zip(sequential, concurrent)):
            _check_same(i, alone, together, device)
        assert shared.cache.hits == 0  # every clone ran on the backend
        assert sum(shared.conversions.batch_sizes) == NUM_REQUESTS  # every request ran, none twice
        shared.close()
        on_round(round_)


def _golden_converter() -> ToneColorConverter:
    folder = require_shared_data() / GOLDEN
    return ToneColorConverter.load(folder / "config.json", folder / "checkpoint.pth").eval()


def _golden_config():
    return load_config(require_shared_data() / GOLDEN / "config.json")


def test_ten_concurrent_clones_reference() -> None:
    config = _golden_config()
    backend = ReferenceBackend(config, reference_encoder(), _golden_converter())
    _concurrent_requests_equal_sequential(VoiceCloner(config, backend, SpeakerEmbeddingCache("ref")))


def _allocated(device) -> dict[str, int]:
    """Bytes allocated per bank in each buffer type, as tt-metal's allocator counts them, once dead
    tensors are freed (collected, and the device synchronised: on the mock that also drops the
    harness's own references to them)."""
    gc.collect()
    ttnn.synchronize_device(device)
    return {
        str(kind): ttnn.get_memory_view(device, kind).total_bytes_allocated_per_bank
        for kind in (ttnn.BufferType.DRAM, ttnn.BufferType.L1, ttnn.BufferType.L1_SMALL)
    }


@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_ten_concurrent_clones_device(device) -> None:
    """10 concurrent clone + convert requests on one device, two rounds: sequential results, no hang; between calls
    nothing stays in L1, and the runner keeps at most `max_regions` shapes (the batch sizes depend on when each
    clone finishes, so DRAM is compared in the deterministic test below)."""
    config = _golden_config()
    backend = TtnnBackend(config, device, reference_encoder(), _golden_converter())
    memory: dict[str, dict[str, int]] = {}
    _concurrent_requests_equal_sequential(
        VoiceCloner(config, backend, SpeakerEmbeddingCache("tt")), lambda round_: memory.update({round_: _allocated(device)}), device
    )
    print(f"allocated bytes per bank: {memory}; regions {list(backend.converter_runner.regions)}")
    assert memory["concurrent"][str(ttnn.BufferType.DRAM)] > 0  # the weights: the probe sees real allocations
    for round_ in memory.values():
        assert round_[str(ttnn.BufferType.L1)] == round_[str(ttnn.BufferType.L1_SMALL)] == 0, memory
    assert len(backend.converter_runner.regions) <= backend.converter_runner.max_regions
    assert backend.program_cache_clears == 0


def _conversions_share_batches(device, max_forwards: int) -> VoiceCloner:
    """10 conversions at once, two rounds (see the tests below); returns the cloner."""
    config = _golden_config()
    backend = TtnnBackend(config, device, reference_encoder(), _golden_converter())
    cloner = VoiceCloner(config, backend, SpeakerEmbeddingCache("tt"), batch_wait_ms=200.0)
    requests, g_src = _setup(cloner)
    targets = [torch.randn(1, config.model.gin_channels, 1, generator=torch.Generator().manual_seed(i)) for i in range(NUM_REQUESTS)]
    jobs = [lambda r=r, g=g: Result(g, cloner.convert(r.source, g_src, g, tau=TAU, noise=r.noise)) for r, g in zip(requests, targets)]
    sequential = [job() for job in jobs]
    assert cloner.conversions.batch_sizes == [1] * NUM_REQUESTS
    host = ReferenceBackend(config, reference_encoder(), _golden_converter())
    expected = host.voice_conversions([ConversionRequest(r.source, g_src, g, TAU, r.noise) for r, g in zip(requests, targets)])
    memory = []
    for _ in range(2):
        forwards = len(cloner.conversions.batch_sizes)
        concurrent = _run_threads(jobs)
        batches = cloner.conversions.batch_sizes[forwards:]
        print(f"{backend.chips} chip(s); sequential: {NUM_REQUESTS} device forwards; concurrent: {len(batches)} ({batches})")
        assert len(batches) <= max_forwards and max(batches) <= MAX_BATCH * backend.chips and sum(batches) == NUM_REQUESTS, batches
        for i, (alone, together) in enumerate(zip(sequential, concurrent)):
            _check_same(i, alone, together, device)
            limits = bar(device, "audio")  # and each batched request against the float32 reference
            assert_items_close(f"request {i} batched vs reference", expected[i][None, None], together.audio[None, None], pcc=limits.pcc, max_rel=limits.max_rel)
        memory.append(_allocated(device))
    assert memory[1] == memory[0], memory
    cloner.close()
    return cloner


@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_ten_concurrent_conversions_share_device_batches(device) -> None:
    """10 conversions submitted at once (a 0.2 s gathering wait so thread start-up on this 2-core machine cannot
    split them; the product waits `BATCH_WAIT_MS`), two rounds: at most 3 device forwards per round instead of 10
    (batches of <= MAX_BATCH), each request equal to its sequential result at the served-batch bar and to the
    float32 reference at the audio bar, first and last frames included, and the device memory after the second
    round equal to after the first (the batch shapes' regions are made once; nothing grows per request)."""
    _conversions_share_batches(device, max_forwards=3)  # measured (mock): batches [8, 2] both rounds


@pytest.mark.parametrize("mesh_device", [2], indirect=True)
@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_ten_concurrent_conversions_fill_both_n300_chips(mesh_device) -> None:
    """The same on an N300's 1x2 mesh: the batcher takes MAX_BATCH per chip, so the 10 requests run as ONE device
    forward (5 items per chip), each equal to its sequential result (which ran alone on chip 0) and the reference;
    a clone on the mesh (replicated: chip 0's result) equals the clone on the reference."""
    cloner = _conversions_share_batches(mesh_device, max_forwards=2)  # measured (mock): batches [10] both rounds
    clip = clip_path("hello_world")
    limits = bar(mesh_device, "embedding")
    expected = VoiceCloner(cloner.config, ReferenceBackend(cloner.config, reference_encoder()), SpeakerEmbeddingCache("ref")).extract_se([clip])
    assert_items_close("mesh clone vs reference", expected, cloner.extract_se([clip]), pcc=limits.pcc, max_rel=limits.max_rel)


# ---- threads sharing one cloner with repeated references (moved from test_concurrency.py) ----


def _repeats_equal_alone(cloner: VoiceCloner) -> None:
    paths = [clip_path(name) for name in REPEATED_CLIPS] * 2  # each clip twice: the second is a cache hit
    alone = {path: _fresh_cloner(cloner, "alone").extract_se([path]) for path in set(paths)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(cloner.extract_se, [path]) for path in paths]
        results = [future.result(timeout=JOIN_TIMEOUT_S) for future in futures]
    for path, se in zip(paths, results):
        assert torch.equal(se, alone[path]), path
    assert cloner.cache.hits == len(paths) - len(set(paths))


def test_threads_share_a_reference_cloner() -> None:
    config = load_config(require_shared_data() / CONFIG)
    _repeats_equal_alone(VoiceCloner(config, ReferenceBackend(config, reference_encoder()), SpeakerEmbeddingCache("ref")))


@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_threads_share_a_device_cloner(device) -> None:
    config = load_config(require_shared_data() / CONFIG)
    backend = TtnnBackend(config, device, reference_encoder())
    _repeats_equal_alone(VoiceCloner(config, backend, SpeakerEmbeddingCache("tt")))
