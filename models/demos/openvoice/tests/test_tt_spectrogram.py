"""Device spectrogram (tt/spectrogram.py) against the reference and upstream's golden spectrograms."""

from __future__ import annotations

import pytest
import torch
import ttnn

from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.tests.real_speech import GOLDEN_CLIPS, golden_case, reference_encoder
from models.demos.openvoice.tt.spectrogram import TtSpectrogram, fourier_basis
from tests.ttnn.utils_for_testing import assert_with_pcc, comp_pcc, pcc_for

# Mock: golden (float32) numerics, so only the float32 DFT ordering differs: 0.999 is loose.
# Device: float32 storage but tf32-like matmul operands on Wormhole; 0.99 (the project's device bar).
MOCK_PCC, DEVICE_PCC = 0.999, 0.99


def _device_spectrogram(device, waveform: torch.Tensor, **kwargs) -> torch.Tensor:
    spec = TtSpectrogram(device, **kwargs)
    return ttnn.to_torch(spec(spec.upload(waveform))).float()


@pytest.mark.parametrize("clip", GOLDEN_CLIPS)
def test_spectrogram_matches_upstream_golden(device, clip: str) -> None:
    case = golden_case()
    waveform = case["inputs"]["wav_22k"][clip]
    expected = case["outputs"]["spec"][clip].transpose(1, 2).unsqueeze(0)  # [1, 1, T, 513]
    actual = _device_spectrogram(device, waveform)
    assert_with_pcc(expected, actual, pcc=pcc_for(device, mock=MOCK_PCC, real=DEVICE_PCC))


@pytest.mark.parametrize("num_samples", [385, 1000, 22050 + 37])
def test_spectrogram_edge_lengths(device, num_samples: int) -> None:
    """Shortest clip the reflection allows, and lengths that are no multiple of the hop."""
    waveform = torch.randn(num_samples, generator=torch.Generator().manual_seed(num_samples)) * 0.3
    expected = spectrogram(waveform[None]).transpose(1, 2).unsqueeze(0)
    actual = _device_spectrogram(device, waveform)
    assert_with_pcc(expected, actual, pcc=pcc_for(device, mock=MOCK_PCC, real=DEVICE_PCC))


def _round_mantissa(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Truncate float32 values to `bits` explicit mantissa bits (how the FPU reads its operands)."""
    as_int = x.float().contiguous().view(torch.int32)
    return (as_int & ~((1 << (23 - bits)) - 1)).view(torch.float32)


def test_dft_operand_precision() -> None:
    """Why the DFT runs on float32 tensors: with bf16 operands (7 mantissa bits) the real-weight
    embedding drifts below the device bar; with tf32 operands (10 bits: what Wormhole's FPU reads
    from float32) it stays at ~1. CPU model of the operand rounding; accumulation in float32."""
    case, ref = golden_case(), reference_encoder()
    waveform = case["inputs"]["wav_22k"]["jfk"]
    basis = fourier_basis(1024, 1024)
    frames = torch.nn.functional.pad(waveform[None, None], (384, 384), mode="reflect")[0, 0].unfold(0, 1024, 256)
    frames = frames[: waveform.numel() // 256]

    def embedding(bits: int) -> torch.Tensor:
        power = (_round_mantissa(frames, bits) @ _round_mantissa(basis, bits)).square()
        spec = torch.sqrt(power[:, :513] + power[:, 544 : 544 + 513] + 1e-6)
        with torch.no_grad():
            return ref(spec[None])

    exact = case["outputs"]["se"]["jfk"].reshape(1, -1)
    assert comp_pcc(exact, embedding(10))[1] > 0.9999
    assert comp_pcc(exact, embedding(7))[1] < 0.995


def test_shorter_window_is_centred_like_stft() -> None:
    basis = fourier_basis(16, 8)
    frame = torch.randn(16, dtype=torch.float64)
    product = frame.float() @ basis
    window = torch.hann_window(8, dtype=torch.float64)
    stft = torch.stft(frame[None], 16, hop_length=4, win_length=8, window=window, center=False, return_complex=True)[0, :, 0]
    padded = basis.shape[1] // 2
    assert torch.allclose(product[:9].double(), stft.real, atol=1e-5)
    assert torch.allclose(product[padded : padded + 9].double(), stft.imag, atol=1e-5)


@pytest.mark.parametrize("n_fft, hop, win", [(512, 256, 512), (1024, 128, 800), (256, 256, 256)])
def test_other_configs_where_hop_divides_n_fft(device, n_fft: int, hop: int, win: int) -> None:
    waveform = torch.randn(5000, generator=torch.Generator().manual_seed(n_fft + hop)) * 0.3
    expected = spectrogram(waveform[None], n_fft, hop, win).transpose(1, 2).unsqueeze(0)
    actual = _device_spectrogram(device, waveform, n_fft=n_fft, hop_length=hop, win_length=win)
    assert_with_pcc(expected, actual, pcc=pcc_for(device, mock=MOCK_PCC, real=DEVICE_PCC))


def test_rejects_hop_that_does_not_divide_n_fft(device) -> None:
    with pytest.raises(ValueError, match="hop_length must divide n_fft"):
        TtSpectrogram(device, n_fft=1024, hop_length=320, win_length=1024)


def test_rejects_too_short_waveform(device) -> None:
    with pytest.raises(ValueError, match="more than 384 samples"):
        TtSpectrogram(device).upload(torch.zeros(384))
