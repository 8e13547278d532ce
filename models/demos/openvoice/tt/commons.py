"""Small TTNN pieces shared by the MeloTTS modules (reference `commons.py`).

Layout as everywhere in `tt/`: time-major ``[1, 1, B*T, C]``, so the reference's channel
LayerNorm over C of a ``[B, C, T]`` tensor is ``ttnn.layer_norm`` over the last dim, with
no transpose on device.
"""

from __future__ import annotations

import ttnn

from models.demos.openvoice.reference.commons import ChannelLayerNorm
from models.demos.openvoice.tt.conv import device_matrix


def cast(x: ttnn.Tensor, dtype: ttnn.DataType) -> ttnn.Tensor:
    """`x` in `dtype`: a device typecast only when the dtype differs (a same-dtype typecast is a copy)."""
    return x if x.dtype == dtype else ttnn.typecast(x, dtype)


class TtChannelLayerNorm:
    """`ChannelLayerNorm` (gamma/beta over channels) on time-major rows; weights uploaded once."""

    def __init__(
        self,
        device: ttnn.Device,
        ref: ChannelLayerNorm,
        *,
        dtype: ttnn.DataType = ttnn.bfloat16,
        compute: ttnn.DeviceComputeKernelConfig | None = None,
    ) -> None:
        self.eps = ref.eps
        self.compute = compute
        self.gamma = device_matrix(device, ref.gamma.detach().reshape(1, -1), dtype)
        self.beta = device_matrix(device, ref.beta.detach().reshape(1, -1), dtype)

    def __call__(self, x: ttnn.Tensor) -> ttnn.Tensor:
        """x [1, 1, rows, C] -> normalised over C, same shape."""
        return ttnn.layer_norm(
            x, epsilon=self.eps, weight=self.gamma, bias=self.beta, compute_kernel_config=self.compute
        )
