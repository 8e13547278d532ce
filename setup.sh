#!/usr/bin/env bash
# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
# One command for a newcomer: build .venv (Python 3.12, ttnn 0.81.1, torch, ...) and run the
# main job: clone a voice from reference clips, then convert a source clip to it when the
# official converter checkpoint is present (checkpoints_v2/, see README "Checkpoints").
#
#   ./setup.sh [REFERENCE.wav ...]     default references: ../shared/data/audio/jfk.flac
# Backend: TTNN on the device ttnn opens: a Tenstorrent card, or on a host without one this
# repository's mock Wormhole (override with OPENVOICE_BACKEND=reference|ttnn).
#
# Where ../shared/data exists (this project's offline data), the places the download helper fills
# for a real user (checkpoints_v2/nltk_data, bert/<hub id>/ tokenizers, base_speakers/ses) are
# filled from it with symlinks, so every README command runs as written; a real user runs
# `python -m models.demos.openvoice.demo.download ...` instead.
set -euo pipefail
cd "$(dirname "$0")"
scripts/create_env.sh
python=.venv/bin/python
export TT_LOGGER_LEVEL="${TT_LOGGER_LEVEL:-error}"  # tt-metal's device logs would bury the demo's output
data=../shared/data
ckpt=checkpoints_v2
backend="${OPENVOICE_BACKEND:-auto}"
refs=("$@")
[ ${#refs[@]} -gt 0 ] || refs=("$data/audio/jfk.flac")

link() {  # link TARGET NAME: NAME -> TARGET unless NAME already exists (a real download wins)
    [ -e "$2" ] || [ -L "$2" ] || { mkdir -p "$(dirname "$2")"; ln -s "$(cd "$1" && pwd)" "$2"; }
}
if [ -d "$data" ]; then
    link "$data/text/nltk_data" "$ckpt/nltk_data"
    link "$data/openvoice_v2/base_speakers/ses" "$ckpt/base_speakers/ses"
    (cd "$data/text/tokenizers" && find . -name vocab.txt -printf '%h\n') | while read -r hub_id; do
        link "$data/text/tokenizers/$hub_id" "$ckpt/bert/${hub_id#./}"
    done
fi

weights=(--checkpoint-dir "$ckpt" --backend "$backend")
if [ ! -f "$ckpt/converter/checkpoint.pth" ]; then
    if [ ! -f "$data/openvoice_v2/ref_enc/ref_enc.pt" ]; then
        echo "No converter checkpoint in $ckpt and no reference-encoder weights in $data." >&2
        echo "Download: $python -m models.demos.openvoice.demo.download --checkpoint-dir $ckpt" >&2
        exit 1
    fi
    weights+=(--config "$data/openvoice_v2/config.json" --ref-enc "$data/openvoice_v2/ref_enc/ref_enc.pt")
fi

mkdir -p outputs
$python -m models.demos.openvoice.demo.cli clone "${refs[@]}" --out outputs/target_se.pt "${weights[@]}"
if [ -f "$ckpt/converter/checkpoint.pth" ]; then
    source_clip="${OPENVOICE_SOURCE:-$data/audio/quick_brown_fox.wav}"
    $python -m models.demos.openvoice.demo.cli convert "$source_clip" --target-se outputs/target_se.pt \
        --out outputs/cloned.wav "${weights[@]}"
else
    echo "Voice conversion skipped: official converter checkpoint not found in $ckpt."
    echo "Get it with: $python -m models.demos.openvoice.demo.download --checkpoint-dir $ckpt"
fi
if [ -f "$ckpt/converter/checkpoint.pth" ] && [ -f "$ckpt/melotts/EN/checkpoint.pth" ]; then
    $python -m models.demos.openvoice.demo.cli speak "Hello! This is my cloned voice, speaking through Tenstorrent." \
        --language EN --target-se outputs/target_se.pt --out outputs/speak_en.wav "${weights[@]}"
else
    echo "Text to speech skipped: official MeloTTS EN / converter checkpoints not found in $ckpt."
    echo "Get them with: $python -m models.demos.openvoice.demo.download --checkpoint-dir $ckpt --melotts EN --bert EN --nltk"
    echo "Try the path with seeded random weights (noise, not speech): .venv/bin/openvoice speak \"Hello world. How are you?\" --language EN --target-se outputs/target_se.pt --random-weights 0 --out outputs/speak.wav"
fi
