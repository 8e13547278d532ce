"""Accuracy bars of the TTNN port against the float32 reference: the generic ones, shared by the
tests (`tests/helpers.py`, which adds the per-module bars measured on the mock) and the product's
golden checker (`tools/check_golden.py --backend ttnn`)."""

# Mock: golden-function numerics in float32 with only storage rounding modelled (bf16 /
# float32 tensors), so any layout, weight-preparation or composition bug shows far below 0.999;
# every module measures >= 0.9999 and the converter audio >= 0.9994.
MOCK_PCC = 0.999
# Card, per module / per embedding: bf16 (converter) or tf32-operand (spectrogram, reference
# encoder) kernels with fp32 accumulation; tt-metal's usual bar for such blocks.
DEVICE_PCC = 0.99
# Card, converter audio end to end: the error of ~500 ops compounds through the unmasked
# decoder, whose conv_post largely cancels its inputs.
DEVICE_AUDIO_PCC = 0.97
