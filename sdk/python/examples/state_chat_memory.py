#!/usr/bin/env python3
"""Keep a chat history in Luma's state store, safely shared by many writers.

    python3 state_chat_memory.py --session s1 "hello" "/assistant hi!" /show
    python3 state_chat_memory.py --session s1          # interactive
    python3 state_chat_memory.py --list                # every session

The history lives at ``chat:<session>:history`` as ``{"messages": [...]}``.
Appends are read-modify-write with compare-and-set (``if_revision``),
retried on conflicts, so concurrent writers of an existing session never
lose a message. (The state store has no create-if-absent, so the session is
created once, when it starts, before writers share it.) ``--ttl`` makes an
idle session expire.

Commands: ``/show``, ``/clear``, ``/assistant <text>``, ``/exit``; any other
line is a user message.
"""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any, Dict, List, Optional

import _bootstrap

import luma


class ConversationStore:
    def __init__(self, db: luma.Client, session: str, ttl_ms: Optional[int] = None) -> None:
        self.db = db
        self.key = f"chat:{session}:history"
        self.ttl_ms = ttl_ms
        if self.db.state.get_or_none(self.key) is None:
            self.db.state.put(self.key, {"messages": []}, ttl_ms=ttl_ms)

    def messages(self) -> List[Dict[str, Any]]:
        item = self.db.state.get_or_none(self.key)
        return list((item.value or {}).get("messages", [])) if item else []

    def append(self, role: str, content: str) -> int:
        msg = {"role": role, "content": content, "ts": int(time.time())}
        res = self.db.state.update(
            self.key,
            lambda v: {"messages": [*((v or {}).get("messages", [])), msg]},
            default=None,
            ttl_ms=self.ttl_ms,
        )
        return res.revision

    def clear(self) -> None:
        self.db.state.update(self.key, lambda v: {"messages": []}, default=None, ttl_ms=self.ttl_ms)

    def show(self) -> None:
        msgs = self.messages()
        if not msgs:
            print("(empty history)")
        for m in msgs:
            print(f"[{m.get('ts')}] {m.get('role')}: {m.get('content')}")


def handle(store: ConversationStore, line: str) -> bool:
    """Run one command; False to stop."""
    if line in ("/exit", "exit", "quit"):
        return False
    if line == "/show":
        store.show()
    elif line == "/clear":
        store.clear()
        print("history cleared")
    elif line.startswith("/assistant "):
        rev = store.append("assistant", line[len("/assistant "):].strip())
        print(f"saved assistant message (revision {rev})")
    elif line:
        rev = store.append("user", line)
        print(f"saved user message (revision {rev})")
    return True


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("lines", nargs="*", help="messages / commands to run (omit for an interactive session)")
    p.add_argument("--session", default=None, help="session id (default: a new random one)")
    p.add_argument("--ttl", type=float, help="expire the history after this many idle hours")
    p.add_argument("--list", action="store_true", help="list the stored sessions")
    args = p.parse_args()
    with luma.Client.from_env() as db:
        if args.list:
            for item in db.state.iter("chat:"):
                if item.key.endswith(":history"):
                    n = len((item.value or {}).get("messages", []))
                    print(f"{item.key.split(':')[1]}: {n} messages, revision {item.revision}")
            return 0
        session = args.session or uuid.uuid4().hex[:12]
        ttl_ms = int(args.ttl * 3_600_000) if args.ttl else None
        store = ConversationStore(db, session, ttl_ms)
        print(f"session {session} (state key {store.key})")
        if args.lines:
            for line in args.lines:
                if not handle(store, line.strip()):
                    break
            return 0
        while True:
            try:
                line = input("you> ").strip()
            except EOFError:
                return 0
            if not handle(store, line):
                return 0


if __name__ == "__main__":
    _bootstrap.run(main)
