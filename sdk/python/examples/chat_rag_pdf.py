#!/usr/bin/env python3
"""Ask questions about ingested PDFs (see ingest_pdf.py).

    python3 chat_rag_pdf.py "Who keeps the lighthouse?" [--collection docs]
    python3 chat_rag_pdf.py            # interactive; /exit to quit

For each question: embed it, retrieve the best chunks grouped by document
(the best ``--docs`` documents, up to ``--per-doc`` chunks each), build a
grounded prompt, and ask the chat model. With no chat model configured the
script prints the retrieved context instead, so it runs offline.

Chat model: ``LUMA_CHAT=openai`` (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``,
``LLM_MODEL``) or ``LUMA_CHAT=ollama`` (``OLLAMA_BASE_URL``,
``OLLAMA_CHAT_MODEL``); unset = none. Embeddings must match the ones used
for ingestion (``LUMA_EMBEDDER``). With ``--session ID`` the turns are kept
in the state store (``chat:<ID>:history``) and sent as conversation history.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, Dict, List, Optional

import _bootstrap

import luma
from luma.rag import ChatModel, Embedder, build_prompt, chat_from_env, embedder_from_env

SYSTEM = "You answer questions about the user's documents. Use only the context given; cite block numbers like [1]."


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("question", nargs="*", help="the question (omit for an interactive session)")
    p.add_argument("--collection", default=os.getenv("VDB_COLLECTION", "docs"))
    p.add_argument("--docs", type=int, default=3, help="documents to draw context from (default 3)")
    p.add_argument("--per-doc", type=int, default=2, help="chunks per document (default 2)")
    p.add_argument("--max-context-chars", type=int, default=6000)
    p.add_argument("--session", help="keep the conversation in the state store under this id")
    return p.parse_args()


def retrieve(db: luma.Client, embedder: Embedder, collection: str, question: str, docs: int, per_doc: int) -> luma.SearchResult:
    qvec = embedder.embed_one(question)
    return db.vector.search(collection, qvec, k=docs, group_by="doc_id", group_limit=per_doc)


def context_blocks(res: luma.SearchResult, max_chars: int) -> List[Dict[str, Any]]:
    blocks: List[Dict[str, Any]] = []
    used = 0
    for g in res.groups or []:
        doc = g.group
        for h in g.hits:
            meta = h.meta or {}
            text = str(meta.get("text") or "")
            if used + len(text) > max_chars and blocks:
                return blocks
            used += len(text)
            blocks.append({"source": f"{meta.get('source', doc)} p.{meta.get('page', '?')}", "doc": doc, "score": h.score, "text": text})
    return blocks


def answer(db: luma.Client, embedder: Embedder, chat: Optional[ChatModel], args: argparse.Namespace, question: str, history: List[Dict[str, str]]) -> str:
    res = retrieve(db, embedder, args.collection, question, args.docs, args.per_doc)
    blocks = context_blocks(res, args.max_context_chars)
    print(f"retrieved {len(res.hits)} chunks from {len(res.groups or {})} documents:")
    for i, b in enumerate(blocks, 1):
        print(f"  [{i}] {b['source']} (doc {b['doc']}, score {b['score']:.3f})")
    prompt = build_prompt(question, [b["text"] for b in blocks], [b["source"] for b in blocks])
    if chat is None:
        print("\nno chat model configured (set LUMA_CHAT=openai or ollama); the retrieved context:\n")
        for i, b in enumerate(blocks, 1):
            print(f"--- [{i}] {b['source']}\n{b['text']}\n")
        return ""
    messages = [{"role": "system", "content": SYSTEM}, *history[-10:], {"role": "user", "content": prompt}]
    text = chat.complete(messages)
    print(f"\nanswer ({chat.name}):\n{text}\n")
    return text


def main() -> int:
    args = parse_args()
    embedder = embedder_from_env()
    chat = chat_from_env()
    with luma.Client.from_env() as db:
        try:
            info = db.vector.info(args.collection)
        except luma.NotFoundError:
            names = [c.name for c in db.vector.list()]
            print(f"collection {args.collection!r} does not exist; run ingest_pdf.py first (collections: {names or 'none'})")
            return 1
        if info.dim is not None and info.dim != embedder.probe_dim():
            print(f"collection dim {info.dim} != embedder dim {embedder.probe_dim()}: use the embedder the PDFs were ingested with")
            return 1
        key = f"chat:{args.session}:history" if args.session else None

        def history() -> List[Dict[str, str]]:
            item = db.state.get_or_none(key) if key else None
            return list((item.value or {}).get("messages", [])) if item else []

        def remember(role: str, content: str) -> None:
            if key:
                db.state.update(key, lambda v: {"messages": [*((v or {}).get("messages", [])), {"role": role, "content": content}]}, default=None)

        questions = [" ".join(args.question)] if args.question else None
        while True:
            if questions is not None:
                if not questions:
                    break
                q = questions.pop(0)
            else:
                try:
                    q = input("you> ").strip()
                except EOFError:
                    break
                if q in ("/exit", "exit", "quit"):
                    break
                if not q:
                    continue
            print(f"question: {q}")
            a = answer(db, embedder, chat, args, q, history())
            remember("user", q)
            if a:
                remember("assistant", a)
    return 0


if __name__ == "__main__":
    _bootstrap.run(main)
