#!/usr/bin/env python3
"""Loads a skillforge dataset folder with Hugging Face `datasets` and checks it against manifest.json.

Usage: check_hf_dataset.py DATASET_DIR [DATASET_DIR ...]
Exit status 0 when every split loads with the record count the manifest states; prints one line per split.
"""
import json
import os
import sys

from datasets import load_dataset


def check(path: str) -> int:
    with open(os.path.join(path, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    ds = load_dataset(path)  # picks up the card's configs / data_files
    failures = 0
    expected = {name: info["records"] for name, info in manifest["splits"].items()}
    if set(ds.keys()) != set(expected):
        print(f"{path}: splits {sorted(ds.keys())} != manifest {sorted(expected)}")
        failures += 1
    for name, count in sorted(expected.items()):
        got = len(ds[name]) if name in ds else None
        status = "ok" if got == count else "MISMATCH"
        if got != count:
            failures += 1
        print(f"{path}: {name}: {got} records (manifest {count}) {status}")
    return failures


if __name__ == "__main__":
    bad = sum(check(p) for p in sys.argv[1:])
    sys.exit(1 if bad else 0)
