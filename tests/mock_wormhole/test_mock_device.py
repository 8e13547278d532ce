# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Tests of the device harness itself: they pass on the mock and on a real N150/N300.

Device-mode resolution and the plugin's skip logic are tested without a device;
everything else runs real ttnn calls on the `device` / `mesh_device` fixtures.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ttnn
from mock_wormhole import device as device_module
from tests.mock_wormhole import pytest_plugin
from mock_wormhole.goldens import HARNESS_GOLDENS
from models.demos.openvoice.utils.graph_report import assert_no_host_round_trip, capture
from mock_wormhole.rounding import bf16
from mock_wormhole.shadow import ShadowError, active
from tests.mock_wormhole.bars import pcc_for
from tests.ttnn.utils_for_testing import assert_with_pcc, comp_pcc

L, C = 96, 64  # sequence length and channels of the small program


def _params(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "x": torch.randn(1, C, L, generator=g),
        "conv_w": torch.randn(2 * C, C, 3, generator=g) / (3 * C) ** 0.5,
        "conv_b": torch.randn(2 * C, generator=g) * 0.1,
        "lin_w": torch.randn(C, C, generator=g) / C**0.5,
        "lin_b": torch.randn(C, generator=g) * 0.1,
        "ln_g": 1 + 0.1 * torch.randn(C, generator=g),
        "ln_b": 0.1 * torch.randn(C, generator=g),
    }


def _torch_program(p: dict[str, torch.Tensor]) -> torch.Tensor:
    """WaveNet-style gated conv, linear, layer norm, self-attention, residual concat; output [1, 2C, L]."""
    x = bf16(p["x"])
    h = F.conv1d(x, p["conv_w"], p["conv_b"], padding=1).permute(0, 2, 1)  # [1, L, 2C]
    gated = torch.tanh(h[..., :C]) * torch.sigmoid(h[..., C:])
    z = F.leaky_relu(gated, 0.1) @ p["lin_w"].T + p["lin_b"]
    z = F.layer_norm(z, (C,), p["ln_g"], p["ln_b"], eps=1e-5)
    attention = torch.softmax(z @ z.transpose(-1, -2) / C**0.5, dim=-1) @ z
    out = torch.cat([attention, x.permute(0, 2, 1)], dim=-1)  # [1, L, 2C]
    return out.permute(0, 2, 1)  # [1, 2C, L]


def _upload(p: dict[str, torch.Tensor], device) -> dict[str, ttnn.Tensor]:
    def on_device(t, layout=ttnn.TILE_LAYOUT):
        return ttnn.from_torch(t, dtype=ttnn.bfloat16, layout=layout, device=device)

    return {
        "x": on_device(p["x"].permute(0, 2, 1).reshape(1, 1, L, C), ttnn.ROW_MAJOR_LAYOUT),
        "conv_w": ttnn.from_torch(p["conv_w"], dtype=ttnn.float32),  # host, PyTorch layout: conv1d prepares it
        "conv_b": ttnn.from_torch(p["conv_b"].reshape(1, 1, 1, -1), dtype=ttnn.float32),
        "lin_w": on_device(p["lin_w"].T.contiguous()),
        "lin_b": on_device(p["lin_b"].reshape(1, -1)),
        "ln_g": on_device(p["ln_g"].reshape(1, 1, 1, -1)),
        "ln_b": on_device(p["ln_b"].reshape(1, 1, 1, -1)),
    }


def _ttnn_program(t: dict[str, ttnn.Tensor], device, wrong_transpose: bool = False) -> ttnn.Tensor:
    h = ttnn.conv1d(
        input_tensor=t["x"],
        weight_tensor=t["conv_w"],
        device=device,
        in_channels=C,
        out_channels=2 * C,
        batch_size=1,
        input_length=L,
        kernel_size=3,
        padding=1,
        bias_tensor=t["conv_b"],
    )  # [1, 1, L, 2C]
    gate_a = ttnn.slice(h, [0, 0, 0, 0], [1, 1, L, C])
    gate_b = ttnn.slice(h, [0, 0, 0, C], [1, 1, L, 2 * C])
    gated = ttnn.multiply(ttnn.tanh(gate_a), ttnn.sigmoid(gate_b))
    z = ttnn.linear(ttnn.leaky_relu(gated, negative_slope=0.1), t["lin_w"], bias=t["lin_b"])
    z = ttnn.layer_norm(z, weight=t["ln_g"], bias=t["ln_b"], epsilon=1e-5)
    # The bug a shape check cannot see: a reshape where a transpose was meant keeps the shape [C, L].
    z_t = ttnn.reshape(z, (1, 1, C, L)) if wrong_transpose else ttnn.permute(z, (0, 1, 3, 2))
    scores = ttnn.multiply(ttnn.matmul(z, z_t), 1.0 / C**0.5)
    attention = ttnn.matmul(ttnn.softmax(scores, dim=-1), z)
    residual = ttnn.to_layout(t["x"], ttnn.TILE_LAYOUT)
    out = ttnn.concat([attention, residual], dim=-1)  # [1, 1, L, 2C]
    return ttnn.reshape(ttnn.permute(out, (0, 1, 3, 2)), (1, 2 * C, L))


@pytest.mark.parametrize("device_params", [{"l1_small_size": 16384}], indirect=True)
def test_small_program_matches_torch(device):
    params = _params()
    output = ttnn.to_torch(_ttnn_program(_upload(params, device), device))
    assert_with_pcc(_torch_program(params), output.float(), pcc=pcc_for(device, mock=0.999, real=0.99))


@pytest.mark.parametrize("device_params", [{"l1_small_size": 16384}], indirect=True)
def test_wrong_composition_fails_pcc(device):
    params = _params()
    output = ttnn.to_torch(_ttnn_program(_upload(params, device), device, wrong_transpose=True))
    passed, value = comp_pcc(_torch_program(params), output.float(), pcc=0.999)
    assert not passed and value < 0.99, f"a wrong transpose went unnoticed (PCC {value})"
    with pytest.raises(AssertionError) as failure:  # tt-metal's assert_with_pcc: the message is the PCC
        assert_with_pcc(_torch_program(params), output.float(), pcc=0.999)
    assert float(str(failure.value).splitlines()[0]) == pytest.approx(value)


def test_invalid_call_raises_library_error(device):
    a = ttnn.from_torch(torch.randn(1, 1, 64, 96), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    b = ttnn.from_torch(torch.randn(1, 1, 64, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    with pytest.raises(RuntimeError, match="width of the first tensor must be equal to the height of the second"):
        ttnn.matmul(a, b)


# tt-metal tests pass the mesh as a shape or as an int N (a 1xN mesh): both open the N300's two chips.
@pytest.mark.parametrize("mesh_device", [(1, 2), 2], indirect=True, ids=["shape", "int"])
def test_mesh_device_is_1x2(mesh_device):
    assert mesh_device.get_num_devices() == 2
    assert tuple(mesh_device.shape) == (1, 2)
    x = torch.randn(1, 1, 32, 64)
    replicated = ttnn.from_torch(
        x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=mesh_device,
        mesh_mapper=ttnn.ReplicateTensorToMesh(mesh_device),
    )
    sharded = ttnn.from_torch(
        x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=mesh_device,
        mesh_mapper=ttnn.ShardTensorToMesh(mesh_device, dim=-1),
    )
    assert tuple(sharded.shape) == (1, 1, 32, 32)  # per-device shape
    doubled = ttnn.to_torch(ttnn.add(replicated, replicated), mesh_composer=ttnn.ConcatMeshToTensor(mesh_device, dim=0))
    assert_with_pcc(torch.cat([2 * bf16(x)] * 2, dim=0), doubled.float(), pcc=0.9999)
    exp = ttnn.to_torch(ttnn.exp(sharded), mesh_composer=ttnn.ConcatMeshToTensor(mesh_device, dim=-1))
    assert_with_pcc(torch.exp(bf16(x)), exp.float(), pcc=pcc_for(mesh_device, mock=0.9999, real=0.999))


def _forward(x: ttnn.Tensor, w: ttnn.Tensor) -> ttnn.Tensor:
    return ttnn.softmax(ttnn.gelu(ttnn.matmul(x, w, memory_config=ttnn.L1_MEMORY_CONFIG)), dim=-1)


def _forward_with_host_round_trip(x: ttnn.Tensor, w: ttnn.Tensor) -> ttnn.Tensor:
    h = ttnn.to_torch(ttnn.matmul(x, w))  # e.g. an op "done on the host"
    h = ttnn.from_torch(torch.nn.functional.gelu(h), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=x.device())
    return ttnn.softmax(h, dim=-1)


def test_graph_report_device_only_forward(device):
    x = ttnn.from_torch(torch.randn(1, 1, 64, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    w = ttnn.from_torch(torch.randn(1, 1, 64, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    report = capture(_forward, x, w)
    assert report.operations == ["ttnn.matmul", "ttnn.gelu", "ttnn.softmax"]
    assert report.num_host_transfers == 0
    # The L1 intermediate (64x64 bf16 tiles) at least; ops on the newer program API report no circular
    # buffers to the graph tracker in 0.81.1, so this is a lower bound.
    assert report.peak_l1_bytes >= 64 * 64 * 2
    assert isinstance(report.result, ttnn.Tensor)
    assert_no_host_round_trip(report)


def test_graph_report_flags_host_round_trip(device):
    x = ttnn.from_torch(torch.randn(1, 1, 64, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    w = ttnn.from_torch(torch.randn(1, 1, 64, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    report = capture(_forward_with_host_round_trip, x, w)
    assert report.host_transfers == ["ttnn.to_torch", "ttnn.from_torch"]
    with pytest.raises(AssertionError, match=r"2 host transfer\(s\).*ttnn\.to_torch, ttnn\.from_torch"):
        assert_no_host_round_trip(report)


@pytest.mark.requires_mock("shadow execution (on hardware the op simply runs)")
def test_op_without_golden_names_it(device):
    x = ttnn.from_torch(torch.randn(1, 1, 32, 32), dtype=ttnn.bfloat16, device=device)
    index = ttnn.from_torch(torch.tensor([0, 3], dtype=torch.int32), dtype=ttnn.uint32, device=device)
    with pytest.raises(ShadowError, match=r"ttnn\.index_fill_new has no golden function"):
        ttnn.index_fill_new(x, 3, index, 1.0)


@pytest.mark.requires_mock("shadow bookkeeping")
def test_shadow_bookkeeping(device):
    shadow = active()
    x = torch.randn(1, 1, 32, 64)
    t = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    # In-place op, Tensor methods and deallocate keep the shadow consistent.
    ttnn.add_(t, t)
    assert torch.equal(ttnn.to_torch(t).float(), bf16(2 * bf16(x)))
    assert torch.equal(t.cpu().to_torch().float(), ttnn.to_torch(t).float())
    assert ttnn.to_torch(ttnn.reshape(t, (32, 64))).shape == (32, 64)
    ttnn.deallocate(t)
    assert not shadow.has_value(t)
    # A tensor the hooks never saw is an error, not silent zeros.
    unseen = ttnn.Tensor(x, ttnn.bfloat16).to(device)
    with pytest.raises(ShadowError, match="ttnn.exp: input tensor .* has no shadow value"):
        ttnn.exp(unseen)
    # Dead intermediates are swept: the table does not grow with the number of ops.
    for _ in range(600):
        ttnn.from_torch(x, dtype=ttnn.bfloat16, device=device)
    assert len(shadow) < 600


@pytest.mark.requires_mock("harness golden registry")
def test_in_place_golden_cannot_corrupt_its_input(device, monkeypatch):
    """Goldens get copies of the shadow values: one that writes into its argument changes only its output."""

    def exp_in_place(input_tensor, **_):
        return input_tensor.add_(1.0)  # a buggy golden: mutates its argument and returns it

    monkeypatch.setitem(HARNESS_GOLDENS, "ttnn.exp", exp_in_place)
    x = torch.randn(1, 1, 32, 64)
    t = ttnn.from_torch(x, dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device)
    out = ttnn.exp(t)
    assert torch.equal(ttnn.to_torch(out), x + 1)
    assert torch.equal(ttnn.to_torch(t), x)  # the input's stored value is untouched
    twice = ttnn.exp(ttnn.exp(t))
    assert torch.equal(ttnn.to_torch(twice), (x + 1) + 1) and torch.equal(ttnn.to_torch(t), x)


def test_upload_does_not_alias_the_host_tensor(device):
    """A device tensor holds a copy: writing to the torch tensor after the upload does not reach it."""
    x = torch.randn(1, 1, 32, 64)
    expected = x.clone()
    t = ttnn.from_torch(x, dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device)
    x.add_(1.0)
    assert torch.equal(ttnn.to_torch(t), expected)


def test_copy_into_a_persistent_device_tensor(device):
    """ttnn.copy_host_to_device_tensor writes a new value into an existing device tensor (a traced region's
    persistent input): the next op reads the new value, the device tensor keeps its buffer."""
    import ttnn

    persistent = ttnn.to_device(ttnn.from_torch(torch.ones(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT), device)
    address = persistent.buffer_address()
    new = ttnn.from_torch(torch.full((1, 1, 32, 32), 3.0), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    ttnn.copy_host_to_device_tensor(new, persistent)
    assert persistent.buffer_address() == address
    assert torch.equal(ttnn.to_torch(ttnn.add(persistent, persistent)).float(), torch.full((1, 1, 32, 32), 6.0))


@pytest.mark.requires_mock("shadow value shapes")
def test_shadow_shapes_differ_only_by_leading_ones(device):
    shadow = active()
    x = torch.randn(1, 1, 32, 64)
    t = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    # The legitimate rank difference: to_torch(torch_rank=...) squeezes leading 1s.
    assert torch.equal(ttnn.to_torch(t, torch_rank=2).float(), bf16(x)[0, 0])
    out = torch.empty(32, 64)
    shadow._fill_to_torch("ttnn.to_torch", (t,), {}, out)
    assert torch.equal(out, bf16(x)[0, 0])
    # Same element count, other shape: a silent reshape would scramble the value, so it is an error.
    with pytest.raises(ShadowError, match=r"ttnn\.to_torch: shadow value shape \(1, 1, 32, 64\) != tensor shape \(64, 32\)"):
        shadow._fill_to_torch("ttnn.to_torch", (t,), {}, torch.empty(64, 32))
    shadow._record_from_torch("ttnn.from_torch", (x[0],), {}, t)  # [1, 32, 64] into [1, 1, 32, 64]
    assert torch.equal(ttnn.to_torch(t).float(), bf16(x))
    with pytest.raises(ShadowError, match=r"ttnn\.from_torch: uploaded value shape \(64, 32\) != tensor shape"):
        shadow._record_from_torch("ttnn.from_torch", (torch.randn(64, 32),), {}, t)
    with pytest.raises(ShadowError, match=r"ttnn\.as_tensor: uploaded value shape \(16, 64\) != tensor shape"):
        shadow._record_from_torch("ttnn.as_tensor", (torch.randn(16, 64),), {}, t)


def test_is_mock_matches_fixture(device, device_is_mock):
    assert device_module.is_mock(device) is device_is_mock
    assert (active() is not None) is device_is_mock


@pytest.mark.parametrize(
    "requested, present, expected",
    [("auto", False, "mock"), ("auto", True, "real"), ("mock", False, "mock"), ("real", True, "real")],
)
def test_resolve_mode(monkeypatch, requested, present, expected):
    monkeypatch.setattr(device_module, "real_device_paths", lambda: ["/dev/tenstorrent/0"] if present else [])
    assert device_module.resolve_mode(requested) == expected


def test_resolve_mode_errors(monkeypatch):
    monkeypatch.setattr(device_module, "real_device_paths", lambda: ["/dev/tenstorrent/0"])
    with pytest.raises(device_module.MockOnRealHardwareError, match="Tenstorrent device is present"):
        device_module.resolve_mode("mock")
    with pytest.raises(device_module.MockOnRealHardwareError):
        device_module.configure_mock_environment()
    monkeypatch.setattr(device_module, "real_device_paths", lambda: [])
    with pytest.raises(device_module.NoDeviceError, match="no Tenstorrent device"):
        device_module.resolve_mode("real")
    monkeypatch.setenv(device_module.ENV_MODE, "simulator")
    with pytest.raises(ValueError, match="device mode must be one of"):
        device_module.resolve_mode()


class _Marker:
    def __init__(self, *args: str) -> None:
        self.args, self.kwargs = args, {}


class _Item:
    def __init__(self, marked: bool, mock_marker: _Marker | None = None) -> None:
        self.marked = marked
        self.mock_marker = mock_marker

    def get_closest_marker(self, name: str):
        if name == "requires_mock":
            return self.mock_marker
        return _Marker() if self.marked and name == "requires_device" else None


@pytest.mark.parametrize(
    "mode, marked, reason",
    [
        ("mock", True, pytest_plugin.REQUIRES_DEVICE_REASON),
        (None, True, "no Tenstorrent device"),
        ("real", True, None),
        ("mock", False, None),
    ],
)
def test_requires_device_marker(monkeypatch, mode, marked, reason):
    monkeypatch.setattr(pytest_plugin, "_resolved_mode", mode)
    if reason is None:
        pytest_plugin.pytest_runtest_setup(_Item(marked))
    else:
        with pytest.raises(pytest.skip.Exception, match=reason):
            pytest_plugin.pytest_runtest_setup(_Item(marked))


@pytest.mark.parametrize(
    "mode, reason",
    [("mock", None), ("real", "^only on the mock device: shadow values$"), (None, "^only on the mock device: shadow values$")],
)
def test_requires_mock_marker(monkeypatch, mode, reason):
    monkeypatch.setattr(pytest_plugin, "_resolved_mode", mode)
    item = _Item(False, _Marker("shadow values"))
    if reason is None:
        pytest_plugin.pytest_runtest_setup(item)
    else:
        with pytest.raises(pytest.skip.Exception, match=reason):
            pytest_plugin.pytest_runtest_setup(item)
    # The reason is one the CI skip guard (tests/ci_skip_guard.py) allows.
    from tests.ci_skip_guard import ALLOWED_CI_SKIPS

    assert any(allowed in pytest_plugin.REQUIRES_MOCK_REASON for allowed in ALLOWED_CI_SKIPS)


def test_requires_mock_marker_is_registered(pytestconfig):
    assert any(line.startswith("requires_mock") for line in pytestconfig.getini("markers"))


def test_mesh_shape_accepts_int():
    assert pytest_plugin.mesh_shape(2) == (1, 2)
    assert pytest_plugin.mesh_shape(1) == (1, 1)
    assert pytest_plugin.mesh_shape((1, 2)) == (1, 2)
    assert pytest_plugin.mesh_shape([2, 4]) == (2, 4)
    with pytest.raises(ValueError, match="int N or a \\(rows, cols\\) pair"):
        pytest_plugin.mesh_shape((1, 2, 3))


@pytest.mark.parametrize(
    "shape, mode, board, chips, reason",
    [
        ((1, 2), "mock", "n300", None, None),
        ((1, 2), "mock", "n150", None, "needs a Tenstorrent device with 2 chips (the mock n150 board has 1)"),
        ((1, 4), "mock", "n300", None, "needs a Tenstorrent device with 4 chips (the mock n300 board has 2)"),
        ((2, 2), "mock", "n300", None, "needs a Tenstorrent device with a 2x2 mesh"),
        ((1, 2), "real", None, 1, "needs a Tenstorrent device with 2 chips (1 present)"),
        ((1, 2), "real", None, 2, None),
        ((1, 2), None, None, None, "no Tenstorrent device"),
    ],
)
def test_mesh_skip_reasons_are_allowed_in_ci(monkeypatch, shape, mode, board, chips, reason):
    """On an N150 (real or mock) the 2-chip tests skip with a reason the CI guard accepts."""
    from tests.ci_skip_guard import ALLOWED_CI_SKIPS

    if board is not None:
        monkeypatch.setenv(device_module.ENV_BOARD, board)
    if chips is not None:
        monkeypatch.setattr(ttnn, "get_num_devices", lambda: chips)
    got = pytest_plugin.mesh_skip_reason(shape, mode)
    if reason is None:
        assert got is None
    else:
        assert got is not None and got.startswith(reason), got
        assert any(allowed in got for allowed in ALLOWED_CI_SKIPS), got


_N150_SCRIPT = """
import os, torch, ttnn
from mock_wormhole import open_device, close_device
opened = open_device()
try:
    assert opened.is_mock
    assert "n150" in os.environ["TT_METAL_MOCK_CLUSTER_DESC_PATH"], os.environ["TT_METAL_MOCK_CLUSTER_DESC_PATH"]
    assert ttnn.get_num_devices() == 1, ttnn.get_num_devices()
    x = torch.randn(1, 1, 32, 64, generator=torch.Generator().manual_seed(0))
    t = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=opened.device)
    y = ttnn.to_torch(ttnn.multiply(ttnn.add(t, t), 0.5)).float()
    expected = x.bfloat16().float()
    assert torch.equal(y, expected), (y - expected).abs().max()
    grid = opened.device.compute_with_storage_grid_size()
    print("N150 OK", grid.x, grid.y)
finally:
    close_device(opened.device)
"""


@pytest.mark.requires_mock("the N150 mock cluster descriptor")
def test_n150_mock_descriptor_runs_an_op(tmp_path):
    """The N300 descriptor is exercised in-process; the N150 one needs its own process (one cluster each)."""
    import os
    import subprocess
    import sys

    from models.demos.openvoice.tests.shared_data import REPO_ROOT

    env = {**os.environ, device_module.ENV_BOARD: "n150", device_module.ENV_MODE: "mock", "PYTHONPATH": str(REPO_ROOT)}
    env.pop("TT_METAL_MOCK_CLUSTER_DESC_PATH", None)
    result = subprocess.run(
        [sys.executable, "-c", _N150_SCRIPT], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "N150 OK" in result.stdout, result.stdout


def test_threads_issue_ops_concurrently(device):
    """Eight threads, no lock of their own, each a chain of ops on its own data at the same time: every
    thread reads back its own result. (Before the harness serialised ops, a thread's to_torch returned
    zeros whenever another thread was inside an op.) On a card ttnn gets the same calls."""
    import threading

    def chain(seed: int, results: dict) -> None:
        x = torch.randn(1, 1, 64, 64, generator=torch.Generator().manual_seed(seed))
        out = ttnn.from_torch(x, ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device)
        for _ in range(20):
            out = ttnn.multiply(ttnn.add(out, 1.0), 0.5)
        results[seed] = (x, ttnn.to_torch(out))

    results: dict = {}
    threads = [threading.Thread(target=chain, args=(seed, results)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 8
    for x, out in results.values():
        expected = x
        for _ in range(20):
            expected = (expected + 1.0) * 0.5
        assert torch.allclose(out, expected, atol=1e-6), float((out - expected).abs().max())
