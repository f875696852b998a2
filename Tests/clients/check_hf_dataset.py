#!/usr/bin/env python3
"""Loads a skillforge dataset folder with Hugging Face `datasets` and checks it against manifest.json.

Usage: check_hf_dataset.py DATASET_DIR [DATASET_DIR ...]
Exit status 0 when every split loads with the record count the manifest states; prints one line per split.
"""
import json
import os
import sys

import yaml
from datasets import load_dataset


def check(path: str) -> int:
    with open(os.path.join(path, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    # Manifest split keys are "train" for the default config and "<config>/<split>" for the others.
    configs = {}
    for key, info in manifest["splits"].items():
        config, _, split = key.rpartition("/")
        configs.setdefault(config or "default", {})[split] = info["records"]
    # Configs the card declares load by name; the others (auxiliary files such as a case library) are
    # JSON Lines folders under data/ that load with the json builder.
    with open(os.path.join(path, "README.md"), encoding="utf-8") as f:
        declared = {c["config_name"] for c in yaml.safe_load(f.read().split("---\n")[1])["configs"]}
    failures = 0
    for config, expected in sorted(configs.items()):
        if config in declared:
            ds = load_dataset(path, config)  # picks up the card's configs / data_files
        else:
            ds = load_dataset("json", data_files={split: os.path.join(path, "data", config, split, "*.jsonl") for split in expected})
        if set(ds.keys()) != set(expected):
            print(f"{path} [{config}]: splits {sorted(ds.keys())} != manifest {sorted(expected)}")
            failures += 1
        for name, count in sorted(expected.items()):
            got = len(ds[name]) if name in ds else None
            status = "ok" if got == count else "MISMATCH"
            if got != count:
                failures += 1
            print(f"{path} [{config}]: {name}: {got} records (manifest {count}) {status}")
    return failures


if __name__ == "__main__":
    bad = sum(check(p) for p in sys.argv[1:])
    sys.exit(1 if bad else 0)
