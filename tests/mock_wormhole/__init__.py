# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Tests of the device harness (`mock_wormhole`) and its pytest plugin."""
