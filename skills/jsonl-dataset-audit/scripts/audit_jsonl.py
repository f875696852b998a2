#!/usr/bin/env python3
"""Audit a JSON Lines file: record count, invalid lines, duplicate ids, empty fields.

usage: audit_jsonl.py FILE [ID_FIELD]
"""
import json
import sys


def main() -> int:
    if len(sys.argv) not in (2, 3) or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path = sys.argv[1]
    id_field = sys.argv[2] if len(sys.argv) == 3 else "id"
    seen = {}
    records = invalid = duplicates = empty = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                invalid += 1
                print(f"{path}:{number}: invalid JSON: {error}")
                continue
            records += 1
            if not isinstance(record, dict):
                print(f"{path}:{number}: not an object")
                continue
            key = record.get(id_field)
            if key is not None:
                if key in seen:
                    duplicates += 1
                    print(f"{path}:{number}: duplicate {id_field} {key!r} (first at line {seen[key]})")
                else:
                    seen[key] = number
            for name, value in record.items():
                if value in ("", [], {}):
                    empty += 1
                    print(f"{path}:{number}: empty field {name!r}")
    print(f"{records} records, {invalid} invalid lines, {duplicates} duplicate ids, {empty} empty fields")
    return 1 if invalid or duplicates else 0


if __name__ == "__main__":
    sys.exit(main())
