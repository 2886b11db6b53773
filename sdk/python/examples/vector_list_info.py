#!/usr/bin/env python3
"""List the vector collections and show one in detail.

    python3 vector_list_info.py [collection]

Without an argument it shows ``VDB_COLLECTION`` or the first collection.
"""

from __future__ import annotations

import json
import os
import sys

import _bootstrap

import luma


def main() -> int:
    with luma.Client.from_env() as db:
        collections = db.vector.list()
        if not collections:
            print("no vector collections yet (run ingest_pdf.py)")
            return 0
        print("collections:")
        for c in collections:
            print(f" - {c.name} (dim={c.dim}, metric={c.metric}, count={c.count})")
        name = sys.argv[1] if len(sys.argv) > 1 else os.getenv("VDB_COLLECTION") or collections[0].name
        print(f"\ndetail of {name!r}:")
        try:
            info = db.vector.info(name)
        except luma.NotFoundError as e:
            print(f"  {e}")
            return 1
        print(json.dumps(info.raw, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    _bootstrap.run(main)
