#!/usr/bin/env python3
"""Ingest PDFs into a Luma vector collection for RAG.

    python3 ingest_pdf.py handbook.pdf [more.pdf ...] [--collection docs]

Extracts the text of each page (the ``pypdf`` module when installed, else
the ``pdftotext`` program from poppler-utils), cuts it into overlapping
chunks, embeds them and upserts them in batches with progress. Each chunk's
id is ``<doc_id>:p<page>:c<n>``, so ingesting a file again replaces its
chunks instead of duplicating them. A manifest per collection is kept in
the state store (``docs:<collection>:manifest``).

Server: ``LUMA_URL`` / ``LUMA_API_KEY`` (or the original's variables, or a
``.env`` file). Embeddings: ``LUMA_EMBEDDER=hash`` (default, offline),
``openai`` (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``EMBEDDING_MODEL``)
or ``ollama`` (``OLLAMA_BASE_URL``, ``OLLAMA_EMBED_MODEL``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import _bootstrap

import luma
from luma.rag import chunk_text, embedder_from_env, extract_pdf_pages


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pdfs", nargs="+", help="PDF files to ingest")
    p.add_argument("--collection", default=os.getenv("VDB_COLLECTION", "docs"))
    p.add_argument("--doc-id", help="document id (default: the file name without extension; one PDF only)")
    p.add_argument("--chunk-size", type=int, default=600, help="characters per chunk (default 600)")
    p.add_argument("--overlap", type=int, default=120, help="characters shared by neighbouring chunks (default 120)")
    p.add_argument("--metric", default="cosine", choices=["cosine", "dot"])
    p.add_argument("--batch-size", type=int, default=128, help="vectors per upsert request (server max: 256)")
    p.add_argument("--extractor", choices=["pypdf", "pdftotext"], help="force a PDF text extractor")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    if args.doc_id and len(args.pdfs) > 1:
        sys.exit("--doc-id needs exactly one PDF")
    embedder = embedder_from_env()
    dim = embedder.probe_dim()
    with luma.Client.from_env() as db:
        db.health()  # fail fast with a clear error if the server is not there
        coll = db.vector.create_collection(args.collection, dim=dim, metric=args.metric, exist_ok=True)
        if coll.dim is not None and coll.dim != dim:
            sys.exit(f"collection {args.collection!r} has dim {coll.dim}, but the embedder {embedder.name!r} makes {dim}: use another --collection")

        manifest_key = f"docs:{args.collection}:manifest"
        total_chunks = 0
        for pdf in args.pdfs:
            doc_id = args.doc_id or Path(pdf).stem
            pages = extract_pdf_pages(pdf, prefer=args.extractor)
            chunks: List[Dict[str, Any]] = []
            for page_no, text in enumerate(pages, 1):
                for n, piece in enumerate(chunk_text(text, args.chunk_size, args.overlap)):
                    chunks.append({"id": f"{doc_id}:p{page_no}:c{n}", "page": page_no, "chunk": n, "text": piece})
            if not chunks:
                print(f"{pdf}: no text found (a scanned PDF?); skipped")
                continue
            print(f"{pdf}: {len(pages)} pages, {len(chunks)} chunks, embedding with {embedder.name} (dim {dim})")
            t0 = time.monotonic()
            vectors = embedder.embed([c["text"] for c in chunks])
            items = [
                {
                    "id": c["id"],
                    "vector": v,
                    "meta": {"doc_id": doc_id, "source": Path(pdf).name, "page": c["page"], "chunk": c["chunk"], "text": c["text"]},
                }
                for c, v in zip(chunks, vectors)
            ]

            def progress(done: int, total: int) -> None:
                print(f"  upserted {done}/{total}")

            res = db.vector.upsert_batch(args.collection, items, batch_size=args.batch_size, on_progress=progress)
            res.raise_for_errors()
            total_chunks += len(items)
            db.state.update(
                manifest_key,
                lambda m, d=doc_id, n=len(items), src=Path(pdf).name: {
                    **(m or {}),
                    "collection": args.collection,
                    "embed_model": embedder.name,
                    "dim": dim,
                    "docs": {**((m or {}).get("docs") or {}), d: {"source": src, "chunks": n, "pages": len(pages)}},
                },
                default=None,
            )
            print(f"  done in {time.monotonic() - t0:.2f}s")
        info = db.vector.info(args.collection)
        print(f"collection {args.collection!r}: {info.count} vectors (dim {info.dim}, {info.metric}); ingested {total_chunks} chunks")
        print(f"manifest: state key {manifest_key}")
    return 0


if __name__ == "__main__":
    _bootstrap.run(main)
