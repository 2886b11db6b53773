"""A client written against the original rustkissvdb 0.1.0 SDK, in the style
of its examples (subapi_quickstart.py, state_chat_memory.py,
vector_list_info.py). It must run unchanged on the compatibility package.
Do not modernise it: it is the test."""

from __future__ import annotations

import os
import random
import time
from typing import Any, Dict, List, Optional, Tuple

from rustkissvdb import Config, RustKissVDBError


def title(text: str) -> None:
    print(f"\n=== {text} ===")


def demo_state(client) -> None:
    title("State Store")
    key = "sdk:demo:state"
    client.state.put(key, {"messages": 1})
    item = client.state.get(key)
    print("GET ->", item)
    items = client.state.list(prefix="sdk:demo", limit=10)
    print("LIST ->", len(items), "items")
    client.state.put("sdk:demo:ttl", {"tmp": True}, ttl_ms=60000)
    res = client.state.batch_put([
        {"key": "bulk:1", "value": {"x": 1}},
        {"key": "bulk:2", "value": {"x": 2}},
    ])
    print("BATCH ->", [r["status"] for r in res["results"]])
    print("DELETE ->", client.state.delete("bulk:2"), client.state.delete("bulk:2"))


class ConversationStore:
    def __init__(self, client, session_id: str) -> None:
        self.client = client
        self.key = f"chat:{session_id}:history"
        try:
            self.client.state.get(self.key)
        except RustKissVDBError:
            self.client.state.put(self.key, {"messages": []})

    def load(self) -> Tuple[List[Dict[str, Any]], Optional[int]]:
        try:
            item = self.client.state.get(self.key)
        except RustKissVDBError:
            return [], None
        value = item.get("value") or {}
        return list(value.get("messages", [])), item.get("revision")

    def append(self, role: str, content: str, stale: bool = False) -> int:
        attempts = 0
        for _ in range(6):
            attempts += 1
            history, revision = self.load()
            if stale and attempts == 1:
                revision = (revision or 0) + 100  # force one CAS conflict
            history.append({"role": role, "content": content, "ts": int(time.time())})
            try:
                self.client.state.put(self.key, {"messages": history}, if_revision=revision)
                return attempts
            except RustKissVDBError as exc:
                if "revision" in str(exc).lower():
                    continue
                raise
        raise RuntimeError("revision_mismatch persistente, reintentos agotados")


def demo_cas(client) -> None:
    title("CAS")
    store = ConversationStore(client, "compat")
    store.append("user", "hola")
    attempts = store.append("assistant", "hola!", stale=True)
    history, revision = store.load()
    print(f"CAS OK messages={len(history)} revision={revision} attempts={attempts}")


def ensure_vector_collection(client, collection: str, dim: int) -> None:
    try:
        client.vector.create_collection(collection, dim=dim, metric="cosine")
        print(f"Collection '{collection}' created.")
    except RustKissVDBError as exc:
        if "already_exists" not in str(exc) and "already exists" not in str(exc):
            raise
        print(f"Collection '{collection}' already exists.")


def demo_vector(client, collection: str) -> None:
    title("Vector Store")
    ensure_vector_collection(client, collection, dim=3)
    vec = [round(random.random(), 3) + 0.01 for _ in range(3)]
    client.vector.upsert(collection, vector_id="demo_vec", vector=vec, meta={"tag": "sdk_demo"})
    client.vector.upsert(collection, vector_id="other_vec", vector=[-v for v in vec], meta={"tag": "other"})
    client.vector.upsert_batch(collection, [
        {"id": "b1", "vector": [1, 0, 0], "meta": {"tag": "batch"}},
        {"id": "b2", "vector": [0, 1, 0]},
    ])
    res = client.vector.search(collection, vec, k=2, include_meta=True)
    hits = res.get("hits", [])
    print("SEARCH ->", hits[0]["id"], hits[0]["meta"]["tag"], round(hits[0]["score"], 3))
    res = client.vector.search(collection, vec, k=5, filters={"tag": "batch"})
    print("FILTERED ->", [h["id"] for h in res["hits"]])
    print("DELETE ->", client.vector.delete(collection, "other_vec"))
    print("DELETE_BATCH ->", [r["status"] for r in client.vector.delete_batch(collection, ["b1", "missing"])["results"]])
    collections = client.vector.list()
    for col in collections:
        if col.get("collection") == collection:
            print(f"LIST -> {col.get('collection')} (dim={col.get('dim')}, metric={col.get('metric')}, count={col.get('live_count')})")
    info = client.vector.info(collection)
    print(f"INFO -> count={info.get('count')} dim={info.get('dim')} manifest_dim={(info.get('manifest') or {}).get('dim')}")
    try:
        client.vector.upsert(collection, vector_id="bad", vector=[1.0, 2.0])
    except RustKissVDBError as exc:
        print("DIM ERROR ->", exc)


def demo_doc(client) -> None:
    title("DocStore")
    doc_id = "ticket_1"
    client.doc.put("tickets", doc_id, {"title": "Bug 1", "severity": "high"})
    print("GET ->", client.doc.get("tickets", doc_id)["doc"]["title"])
    found = client.doc.find("tickets", {"severity": "high"})
    print("FIND ->", [d["id"] for d in found])
    print("DELETE ->", client.doc.delete("tickets", doc_id))
    try:
        client.doc.get("tickets", doc_id)
    except RustKissVDBError as exc:
        print("MISSING ->", exc)


def demo_sql(client) -> None:
    title("SQLite API")
    client.sql.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT)", params=[])
    client.sql.exec("INSERT INTO notes(body) VALUES (?)", params=["demo"])
    n = client.sql.execute("INSERT INTO notes(body) VALUES (?)", ["demo2"])
    rows = client.sql.query("SELECT id, body FROM notes ORDER BY id DESC LIMIT 1", params=[])
    print("QUERY ->", rows, "affected", n)
    try:
        client.sql.query("DELETE FROM notes")
    except RustKissVDBError as exc:
        print("SQL ERROR ->", exc)


def demo_stream(client) -> None:
    title("SSE stream")
    seen = 0
    for event in client.stream.events(since=0, types="state_updated", key_prefix="sdk:demo"):
        print("EVENT ->", event["event"], event["id"], event["data"]["data"]["key"])
        seen += 1
        if seen == 2:
            break


def main() -> None:
    cfg = Config.from_env()
    collection = os.getenv("VDB_COLLECTION", "sdk_quickstart").replace("-", "_")
    with cfg.create_client() as client:
        client.request("GET", "/v1/health")
        print("HEALTH ->", client.health()["status"])
        demo_state(client)
        demo_cas(client)
        demo_doc(client)
        demo_sql(client)
        demo_vector(client, collection)
        demo_stream(client)
    print("\nALL DONE")


if __name__ == "__main__":
    main()
