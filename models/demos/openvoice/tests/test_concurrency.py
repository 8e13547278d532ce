"""One VoiceCloner shared by several threads (a server's request handlers): every thread gets
the embedding it would get alone, on the reference and on the TTNN backend (one device)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from models.demos.openvoice.common.config import load_config
from models.demos.openvoice.demo.pipeline import ReferenceBackend, SpeakerEmbeddingCache, VoiceCloner
from models.demos.openvoice.tests.helpers import CONFIG, clip_path, reference_encoder
from models.demos.openvoice.tt.backend import L1_SMALL_SIZE, TtnnBackend
from tests.shared_data import require_shared_data

CLIPS = ["hello_world", "one_two_three", "counting", "quick_brown_fox"]


def _concurrent_equals_sequential(cloner: VoiceCloner) -> None:
    paths = [clip_path(name) for name in CLIPS] * 2  # each clip twice: the second is a cache hit
    alone = {path: VoiceCloner(cloner.config, cloner.backend, SpeakerEmbeddingCache("alone")).extract_se([path]) for path in set(paths)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda path: cloner.extract_se([path]), paths))
    for path, se in zip(paths, results):
        assert torch.equal(se, alone[path]), path
    assert cloner.cache.hits == len(paths) - len(set(paths))


def test_threads_share_a_reference_cloner() -> None:
    config = load_config(require_shared_data() / CONFIG)
    _concurrent_equals_sequential(VoiceCloner(config, ReferenceBackend(config, reference_encoder()), SpeakerEmbeddingCache("ref")))


@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_threads_share_a_device_cloner(device) -> None:
    config = load_config(require_shared_data() / CONFIG)
    backend = TtnnBackend(config, device, reference_encoder())
    _concurrent_equals_sequential(VoiceCloner(config, backend, SpeakerEmbeddingCache("tt")))
