"""Regenerate or check the public data files.

    python -m course_data --check    compare the files with what the grammar makes now
    python -m course_data --write    write them (then paste the printed sums into CHECKSUMS)
"""

from __future__ import annotations

import argparse
import hashlib
import sys

from . import CHECKSUMS, DATA_DIR, file_contents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_data", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="compare the files with a fresh generation")
    group.add_argument("--write", action="store_true", help="write the files and print their SHA-256 sums")
    args = parser.parse_args(argv)
    status = 0
    for name, text in file_contents().items():
        data = text.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        path = DATA_DIR / name
        if args.write:
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f'    "{name}": "{digest}",')
        else:
            same_file = path.is_file() and path.read_bytes() == data
            same_sum = CHECKSUMS.get(name) == digest
            print(f"{name}: {'ok' if same_file and same_sum else 'DIFFERENT'}")
            status |= not (same_file and same_sum)
    return status


if __name__ == "__main__":
    sys.exit(main())
