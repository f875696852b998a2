#!/usr/bin/env bash
# Makes the two Python environments the real-trainer tests use (Tests/EngineTests/TrainerTests.swift):
#   .build-venv/trl           torch (CPU) + transformers 5.25 + TRL 1.16 + datasets 5.2
#   .build-venv/llamafactory  torch (CPU) + LLaMA-Factory 0.9.5 with the pins it needs (transformers 5.6,
#                             TRL 0.24, datasets 4.0), installed --no-deps so that it does not pull a CUDA torch
# CPU torch comes from the local wheel folder ($PIP_FIND_LINKS, else /opt/wheels) when there is one.
# Idempotent: an environment that already imports its packages is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS="${PIP_FIND_LINKS:-/opt/wheels}"
FIND=()
if [ -d "$WHEELS" ]; then FIND=(--find-links "$WHEELS"); fi
PIP=(--quiet --disable-pip-version-check "${FIND[@]}")

if ! .build-venv/trl/bin/python -c "import torch, transformers, trl, datasets, tokenizers, yaml" 2>/dev/null; then
  python3 -m venv .build-venv/trl
  .build-venv/trl/bin/pip install "${PIP[@]}" "torch==2.13.0+cpu" transformers==5.25.0 trl==1.16.0 datasets==5.2.0 \
    accelerate==1.16.0 peft==0.21.2 tokenizers pyyaml
fi

if ! .build-venv/llamafactory/bin/python -c "import llamafactory.data, llamafactory.hparams" 2>/dev/null; then
  python3 -m venv .build-venv/llamafactory
  .build-venv/llamafactory/bin/pip install "${PIP[@]}" "torch==2.13.0+cpu" transformers==5.6.0 trl==0.24.0 datasets==4.0.0 \
    accelerate==1.11.0 peft==0.18.1 tokenizers pyyaml omegaconf
  .build-venv/llamafactory/bin/pip install "${PIP[@]}" --no-deps llamafactory==0.9.5
  # LLaMA-Factory imports torchaudio at module level (data/mm_plugin.py) even for text data; the PyPI wheels
  # do not load against CPU torch 2.13, and an empty stand-in is enough for text.
  SITE=$(.build-venv/llamafactory/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  mkdir -p "$SITE/torchaudio"
  : > "$SITE/torchaudio/__init__.py"
fi
.build-venv/trl/bin/python -c "import trl, transformers; print('trainers: trl', trl.__version__, 'transformers', transformers.__version__)"
.build-venv/llamafactory/bin/python -c "import llamafactory; print('trainers: llamafactory', llamafactory.__version__)"
