"""The legacy RAG helper of the original project (``client.rag``).

``initialize_collection`` creates a collection sized for the embedder
(an existing one is fine), ``ingest_text`` chunks a text by words and
upserts it in one ``upsert_batch`` (ids ``{id_prefix}_{n}``, meta with
``text_snippet`` and ``full_text``), ``chat`` retrieves and answers.

Embeddings and chat use an OpenAI-compatible endpoint when a key is
configured (``openai_key`` or ``OPENAI_API_KEY``, with ``OPENAI_BASE_URL``,
``EMBEDDING_MODEL``, ``LLM_MODEL``). Without one — where the original
refused to start — they fall back to the SDK's offline hash embedder and an
answer made of the retrieved context, so the helper also runs offline.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

from luma.rag import ChatModel, Embedder, HashEmbedder, OpenAIChat, OpenAIEmbedder

from .errors import RustKissVDBError

__all__ = ["RAGClient"]


class RAGClient:
    def __init__(
        self,
        vector_api: Any,
        openai_key: Optional[str] = None,
        embedding_model: Optional[str] = None,
        llm_model: Optional[str] = None,
        base_url: Optional[str] = None,
        **_: Any,
    ) -> None:
        self.vector = vector_api
        key = openai_key or os.getenv("OPENAI_API_KEY")
        base = base_url or os.getenv("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.embedder: Embedder
        self.llm: Optional[ChatModel]
        if key:
            self.embedder = OpenAIEmbedder(embedding_model or os.getenv("EMBEDDING_MODEL") or "text-embedding-3-small", base, key)
            self.llm = OpenAIChat(llm_model or os.getenv("LLM_MODEL") or "gpt-4o-mini", base, key)
        else:
            self.embedder = HashEmbedder()
            self.llm = None

    def embed(self, texts: List[str]) -> List[List[float]]:
        return self.embedder.embed(texts)

    def initialize_collection(self, name: str, metric: str = "cosine") -> int:
        """Create the collection for this embedder's dim; an existing one
        (``already_exists`` / 409) is fine. Returns the dim."""
        dim = self.embedder.probe_dim()
        try:
            self.vector.create_collection(name, dim=dim, metric=metric)
        except RustKissVDBError as exc:
            if "already_exists" not in str(exc) and "409" not in str(exc):
                raise
        return dim

    @staticmethod
    def _chunk(text: str, size: int, overlap: int) -> List[str]:
        words = text.split()
        chunks: List[str] = []
        step = max(1, size - overlap)
        for i in range(0, len(words), step):
            chunks.append(" ".join(words[i : i + size]))
            if i + size >= len(words):
                break
        return chunks

    def ingest_text(
        self,
        collection: str,
        text: str,
        metadata: Optional[Dict[str, Any]] = None,
        chunk_size: int = 1000,
        overlap: int = 100,
        id_prefix: str = "doc",
    ) -> int:
        """Chunk ``text`` (by words), embed, and upsert in one batch
        (more than the server's batch limit fails with ``too many items``,
        as in the original). Returns the number of chunks."""
        chunks = self._chunk(text, chunk_size, overlap)
        if not chunks:
            return 0
        vectors = self.embed(chunks)
        items = [
            {"id": f"{id_prefix}_{i}", "vector": v, "meta": {**(metadata or {}), "text_snippet": c[:200], "full_text": c, "chunk": i}}
            for i, (c, v) in enumerate(zip(chunks, vectors))
        ]
        res = self.vector.upsert_batch(collection, items)
        errors = [r for r in res.get("results", []) if r.get("status") == "error"]
        if errors:
            e = errors[0].get("error") or {}
            raise RustKissVDBError(str(e.get("error", "error")), str(e.get("message", "")))
        return len(items)

    def chat(
        self,
        collection: str,
        query: str,
        k: int = 5,
        system_prompt: str = "You are a helpful assistant. Use the provided context to answer the user's question.",
        filters: Optional[Dict[str, Any]] = None,
        temperature: float = 0.1,
        max_tokens: Optional[int] = None,
    ) -> Dict[str, Any]:
        """Retrieve the ``k`` best chunks and answer: ``{"answer",
        "sources": [{"id", "score", "meta"}]}``."""
        qvec = self.embed([query])[0]
        res = self.vector.search(collection, qvec, k=k, include_meta=True, filters=filters)
        hits = res.get("hits", [])
        if not hits:
            return {"answer": "No relevant information was found in the knowledge base.", "sources": []}
        contexts, sources = [], []
        for h in hits:
            meta = h.get("meta") or {}
            contexts.append(str(meta.get("full_text") or meta.get("text_snippet") or ""))
            sources.append({"id": h["id"], "score": h["score"], "meta": meta})
        joined = "\n\n".join(f"[Context {i + 1}]\n{c}" for i, c in enumerate(contexts))
        prompt = f"Answer using ONLY the context.\nIf it is not in the context, say so.\n\n{joined}\n\nQuestion:\n{query}\n\nAnswer:"
        if self.llm is None:
            return {"answer": joined, "sources": sources}
        answer = self.llm.complete(
            [{"role": "system", "content": system_prompt}, {"role": "user", "content": prompt}],
            temperature=temperature,
            max_tokens=max_tokens,
        )
        return {"answer": answer, "sources": sources}
