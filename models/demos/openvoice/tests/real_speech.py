"""Deprecated name of `helpers.py`, kept only for test_pipeline.py (owned elsewhere) until its
import is switched to `models.demos.openvoice.tests.helpers`; then delete this file."""

from models.demos.openvoice.tests.helpers import CONFIG, REF_ENC, clip_path, reference_encoder  # noqa: F401
from tests.shared_data import require_shared_data as data_dir  # noqa: F401
