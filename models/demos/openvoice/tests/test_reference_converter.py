# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Properties of the float32 reference converter beyond the golden vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
from scipy.signal import get_window, resample_poly

from models.demos.openvoice.reference.reference_encoder import load_reference_encoder
from models.demos.openvoice.reference.spectrogram import spectrogram, spectrogram_lengths
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter


@pytest.fixture(scope="module")
def b2(shared_data: Path) -> tuple[ToneColorConverter, dict]:
    """The batch-of-2 golden case: real spectrograms of different lengths, small random model."""
    folder = shared_data / "golden/vc_small_b2"
    model = ToneColorConverter.load(folder / "config.json", folder / "checkpoint.pth")
    return model, torch.load(folder / "case.pt", weights_only=False)["inputs"]


def _decoder_right_reach(model: ToneColorConverter) -> int:
    """Output samples past the end of a clip's valid frames that can reach back into them
    (the decoder's one-sided receptive field, in output samples; an upper bound)."""
    dec = model.dec
    rates = [up.stride[0] for up in dec.ups]
    samples_per_unit = int(np.prod(rates))  # one input frame, in output samples
    reach = dec.conv_pre.padding[0] * samples_per_unit
    for i, up in enumerate(dec.ups):
        reach += (up.padding[0] // up.stride[0] + 1) * samples_per_unit  # transposed conv taps
        samples_per_unit //= rates[i]
        block_reach = max(
            sum(c.padding[0] for c in block.modules() if isinstance(c, torch.nn.Conv1d))
            for block in dec.resblocks[i * dec.num_kernels : (i + 1) * dec.num_kernels]
        )
        reach += block_reach * samples_per_unit
    return reach + dec.conv_post.padding[0]


def test_batch_equals_items_alone(b2: tuple[ToneColorConverter, dict]) -> None:
    model, inputs = b2
    lengths = inputs["spec_lengths"]
    assert lengths.tolist() == [40, 27]
    with torch.inference_mode():
        batch = model.voice_conversion(
            inputs["spec"], lengths, inputs["g_src"], inputs["g_tgt"], tau=inputs["tau"], noise=inputs["eps_q"]
        )
        for b, length in enumerate(lengths.tolist()):
            alone = model.voice_conversion(
                inputs["spec"][b : b + 1, :, :length],
                lengths[b : b + 1],
                inputs["g_src"][b : b + 1],
                inputs["g_tgt"][b : b + 1],
                tau=inputs["tau"],
                noise=inputs["eps_q"][b : b + 1, :, :length],
            )
            # Latents are masked at every layer: padding cannot leak into valid frames.
            # (|z| reaches ~28 in this random model, hence 1e-4 rather than 1e-5.)
            for name in ("z", "m_q", "logs_q", "z_p", "z_hat"):
                batched = getattr(batch, name)[b : b + 1, :, :length]
                torch.testing.assert_close(batched, getattr(alone, name), rtol=0, atol=1e-4)
                assert not getattr(batch, name)[b, :, length:].any(), f"{name} not zero past the valid frames"
            # The decoder is not masked (upstream neither): in a padded batch its conv biases
            # make the padding non-zero, which reaches back into the last ~13 valid frames of a
            # shorter item. Everything before that reach is independent of the batch.
            end = length * 256 - (_decoder_right_reach(model) if length < inputs["spec"].shape[-1] else 0)
            assert end > length * 128
            torch.testing.assert_close(batch.audio[b : b + 1, :, :end], alone.audio[:, :, :end], rtol=0, atol=1e-5)
            assert alone.audio.shape[-1] == length * 256


def test_flow_reverse_inverts_forward(b2: tuple[ToneColorConverter, dict]) -> None:
    model, inputs = b2
    torch.manual_seed(0)
    length = inputs["spec"].shape[-1]
    mask = (torch.arange(length)[None, None, :] < inputs["spec_lengths"][:, None, None]).float()
    z = torch.randn(2, model.flow.flows[0].half_channels * 2, length) * mask
    with torch.inference_mode():
        z_p = model.flow(z, mask, g=inputs["g_src"])
        back = model.flow(z_p, mask, g=inputs["g_src"], reverse=True)
        other = model.flow(z_p, mask, g=inputs["g_tgt"], reverse=True)
    assert (z_p - z).abs().max() > 1e-2  # the flow does something
    torch.testing.assert_close(back, z, rtol=0, atol=1e-5)
    assert (other - z).abs().max() > 1e-3  # and depends on g


def test_noise_is_ignored_at_tau_zero(b2: tuple[ToneColorConverter, dict]) -> None:
    model, inputs = b2
    args = (inputs["spec"], inputs["spec_lengths"], inputs["g_src"], inputs["g_tgt"])
    noise = torch.randn_like(inputs["eps_q"])
    with torch.inference_mode():
        with_noise = model.voice_conversion(*args, tau=0.0, noise=noise)
        no_noise = model.voice_conversion(*args, tau=0.0, noise=torch.zeros_like(noise))
        noisy = model.voice_conversion(*args, tau=0.3, noise=noise)
    for name in ("audio", "z", "z_p", "z_hat"):
        assert torch.equal(getattr(with_noise, name), getattr(no_noise, name)), name
    torch.testing.assert_close(with_noise.z, with_noise.m_q * with_noise.y_mask, rtol=0, atol=0)
    assert (noisy.z - with_noise.z).abs().max() > 1e-2  # tau > 0 does use the draw


def _numpy_spectrogram(y: np.ndarray, n_fft: int = 1024, hop: int = 256) -> np.ndarray:
    """Independent float64 STFT: reflect pad, periodic Hann frames, rfft, magnitude with eps."""
    pad = (n_fft - hop) // 2
    y = np.pad(y.astype(np.float64), pad, mode="reflect")
    n_frames = (len(y) - n_fft) // hop + 1
    frames = np.stack([y[t * hop : t * hop + n_fft] for t in range(n_frames)])
    spectrum = np.fft.rfft(frames * get_window("hann", n_fft, fftbins=True), axis=-1)
    return np.sqrt(np.abs(spectrum) ** 2 + 1e-6).T  # [bins, T]


def test_spectrogram_matches_numpy(shared_data: Path) -> None:
    wav, rate = soundfile.read(shared_data / "audio/hello_world.wav", dtype="float32")
    assert rate == 16000 and wav.ndim == 1
    wav = resample_poly(wav, 441, 320).astype(np.float32)  # 16 kHz -> 22.05 kHz
    ours = spectrogram(torch.from_numpy(wav)[None])
    expected = _numpy_spectrogram(wav)
    assert ours.shape == (1, 513, len(wav) // 256)
    assert ours.shape[-1] == int(spectrogram_lengths([len(wav)])[0])
    assert expected.max() > 1.0
    np.testing.assert_allclose(ours[0].numpy(), expected, rtol=0, atol=1e-4)


def test_spectrogram_lengths() -> None:
    lengths = spectrogram_lengths([385, 1000, 60526, 132300])
    assert lengths.tolist() == [1, 3, 236, 516]  # 236 and 516 are the golden spec_se_real frame counts
    with pytest.raises(ValueError, match="more than 384 samples"):
        spectrogram_lengths([384])
    for n in (385, 1000, 4097):
        assert spectrogram(torch.randn(1, n) * 0.1).shape[-1] == int(spectrogram_lengths([n])[0])


def test_real_speaker_embeddings(shared_data: Path) -> None:
    """The release ref_enc.pt reproduces the golden real-weight embeddings."""
    case = torch.load(shared_data / "golden/spec_se_real/case.pt", weights_only=False)
    ref_enc = load_reference_encoder(shared_data / "openvoice_v2/ref_enc/ref_enc.pt")
    embeddings = {}
    with torch.inference_mode():
        for name, wav in case["inputs"]["wav_22k"].items():
            se = ref_enc(spectrogram(wav[None]).transpose(1, 2)).unsqueeze(-1)
            torch.testing.assert_close(se, case["outputs"]["se"][name], rtol=0, atol=1e-4)
            embeddings[name] = se.flatten()
    # Different clips (three speakers) must not collapse onto one embedding.
    names = sorted(embeddings)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert torch.cosine_similarity(embeddings[a], embeddings[b], dim=0) < 0.99, (a, b)
