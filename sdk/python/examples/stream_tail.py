#!/usr/bin/env python3
"""Print Luma's event stream as it happens, like ``tail -f``.

    python3 stream_tail.py                       # new events from now on
    python3 stream_tail.py --since 0 --limit 20  # replay the retained log
    python3 stream_tail.py --types state_updated,state_deleted --key-prefix chat:

The SDK reconnects after a dropped connection (server restart, network
error) with ``Last-Event-ID`` = the last offset printed, so nothing is lost
or printed twice; offsets that are no longer retained are reported as a gap.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Union

import _bootstrap

import luma


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--since", default="now", help='offset to start after, or "now" (default)')
    p.add_argument("--types", help="comma-separated event types")
    p.add_argument("--key-prefix", help="only events whose key starts with this")
    p.add_argument("--collection", help="only events of this collection")
    p.add_argument("--limit", type=int, help="stop after this many events")
    p.add_argument("--idle", type=float, help="stop after this many seconds without events")
    p.add_argument("--json", action="store_true", help="print each event's full JSON envelope")
    args = p.parse_args()
    since: Union[int, str] = args.since if args.since == "now" else int(args.since)
    with luma.Client.from_env() as db:
        stream = db.stream.events(
            since=since, types=args.types, key_prefix=args.key_prefix, collection=args.collection,
            limit=args.limit, idle_timeout=args.idle, max_reconnect_attempts=None,
        )
        try:
            for ev in stream:
                if isinstance(ev, luma.Gap):
                    print(f"!! gap: offsets {ev.from_offset}..{ev.to_offset} were not delivered ({ev.dropped} events)", flush=True)
                    continue
                if args.json:
                    print(json.dumps(ev.raw, ensure_ascii=False), flush=True)
                    continue
                where = ev.key or ev.collection or ""
                data = {k: v for k, v in ev.data.items() if k not in ("key", "collection")}
                print(f"{ev.offset:>8} {ev.type:<26} {where:<30} {json.dumps(data, ensure_ascii=False)[:120]}", flush=True)
        except KeyboardInterrupt:
            pass
        finally:
            stream.close()
        if stream.reconnects:
            print(f"(reconnected {stream.reconnects} times)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    _bootstrap.run(main)
