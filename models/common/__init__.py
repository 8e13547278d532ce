# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Code shared by the model demos (device opening, the mock Wormhole harness)."""
