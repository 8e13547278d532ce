# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The run report (tools/run_report.py) on a small configuration: the goldens vc_small_b2 and tts_small_en
and the real reference encoder on hello_world (1.1 s). Checks the markdown's table rows (every model and
stage, op counts, host transfers where the design puts them, PCC at the project's bars, RTF "-" on the
mock, the quality rows) and that the PNG is a valid PNG image."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from models.demos.openvoice.tests.helpers import bar
from models.demos.openvoice.tools.run_report import CLONE, CONVERTER, MELO, NOT_FOUND, write_report
from models.demos.openvoice.utils.device import L1_SMALL_SIZE
from models.demos.openvoice.utils.device import is_mock_device

STAGES = {
    CONVERTER: ["posterior_encoder", "flow", "reverse_flow", "generator", "download"],
    CLONE: ["upload", "spectrogram", "reference_encoder", "download"],
    MELO: ["upload", "encode", "durations+sync", "align+prior", "flow", "decoder", "download"],
}
# Stage -> the project's bar (helpers.MOCK_BARS) of the output the report compares. The report chains
# the device stages, so the end-to-end bars apply (z_p, z_hat, audio; MeloTTS token / z / audio).
BAR_OF = {
    (CONVERTER, "posterior_encoder"): "posterior_z",  # report measured 0.999908 (mock)
    (CONVERTER, "flow"): "z_p",  # 0.999907
    (CONVERTER, "reverse_flow"): "z_hat",  # 0.999892
    (CONVERTER, "generator"): "audio",  # 0.999813
    (CLONE, "spectrogram"): "spectrogram",  # 1.000000 (float32)
    (CLONE, "reference_encoder"): "embedding",  # 1.000000
    (MELO, "encode"): "melo_token",  # m_p 1.000000
    (MELO, "durations+sync"): "melo_token",  # logw_dp 1.000000
    (MELO, "align+prior"): "melo_z_p",  # 1.000000
    (MELO, "flow"): "melo_z",  # 0.999968
    (MELO, "decoder"): "melo_audio",  # 0.999898
}
# Where host transfers belong: uploads at the inputs (MeloTTS also uploads the prior draw once its
# shape is known), downloads at the outputs and MeloTTS's one y_lengths sync. Nothing else.
UPLOADS = {(CLONE, "upload"): 1, (MELO, "upload"): 6, (MELO, "align+prior"): 1}
DOWNLOADS = {(CONVERTER, "download"): 1, (CLONE, "download"): 1, (MELO, "durations+sync"): 1, (MELO, "download"): 1}


def _table(markdown: str, header: str) -> list[list[str]]:
    """Rows (cells) of the table whose header line starts with `header`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR" and data[-8:-4] == b"IEND", "PNG without header or end chunk"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_run_report_small(device, shared_data: Path, tmp_path: Path) -> None:
    markdown = write_report(device, is_mock_device(), tmp_path / "report", shared_data, small=True, checkpoint_dir=tmp_path / "no_checkpoints")
    text = markdown.read_text()

    per_model = _table(text, "| model | case | audio s |")
    assert [row[0] for row in per_model] == [CONVERTER, CLONE, MELO]
    for model, case, seconds, ops, _, _, worst, rtf in per_model:
        assert int(ops) > 0 and float(seconds) > 0, (model, case)
        assert float(worst) > 0.99, (model, case, worst)
        if is_mock_device():
            assert rtf == "-"  # the mock's timing is host emulation
        else:
            assert float(rtf) > 0

    stages = _table(text, "| model | case | stage |")
    for model, names in STAGES.items():
        assert [row[2] for row in stages if row[0] == model] == names, model
    for model, _, stage, ops, uploads, downloads, pcc, output in stages:
        key = (model, stage)
        assert int(ops) > 0, key
        assert int(uploads) == UPLOADS.get(key, 0), f"{key}: {uploads} uploads"
        assert int(downloads) == DOWNLOADS.get(key, 0), f"{key}: {downloads} downloads"
        if key in BAR_OF:
            assert output != "-" and float(pcc) >= bar(device, BAR_OF[key]).pcc, f"{key}: {output} PCC {pcc}"
        else:
            assert pcc == "-", key
    # a stage's op count is the whole model's share: the per-model total is their sum
    for model, _, _, ops, uploads, downloads, _, _ in per_model:
        rows = [row for row in stages if row[0] == model]
        assert int(ops) == sum(int(row[3]) for row in rows) and int(uploads) == sum(int(row[4]) for row in rows)

    quality = _table(text, "| model | WER |")
    assert len(quality) == 2 and all(NOT_FOUND in cell for row in quality for cell in row[1:])

    png = tmp_path / "report" / "report.png"
    assert f"]({png.name})" in text
    width, height = _png_size(png)
    assert width >= 800 and height >= 600, (width, height)
