"""Building blocks for retrieval-augmented generation, standard library only.

* :func:`chunk_text` — split text into overlapping chunks on word boundaries.
* Embedders — ``embed(texts) -> vectors``:

  - :class:`HashEmbedder`: deterministic, offline, no model: hashed
    character n-gram and word features, L2-normalised. Texts that share
    words and spellings get similar vectors; good enough to test a
    pipeline end to end and to retrieve passages by their wording.
  - :class:`OpenAIEmbedder`: any OpenAI-compatible ``/v1/embeddings``.
  - :class:`OllamaEmbedder`: Ollama's ``/api/embed``.

* Chat models — ``complete(messages) -> str``: :class:`OpenAIChat`
  (``/v1/chat/completions``) and :class:`OllamaChat` (``/api/chat``).
* :func:`embedder_from_env` / :func:`chat_from_env` choose by environment
  (see docs/SDK_PYTHON.md); the default embedder is the offline one and the
  default chat model is none (callers print the retrieved context).
* :func:`extract_pdf_pages` — text per page with ``pypdf`` when installed,
  else the ``pdftotext`` program (Debian: poppler-utils).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

__all__ = [
    "chunk_text",
    "Embedder",
    "HashEmbedder",
    "OpenAIEmbedder",
    "OllamaEmbedder",
    "ChatModel",
    "OpenAIChat",
    "OllamaChat",
    "embedder_from_env",
    "chat_from_env",
    "build_prompt",
    "extract_pdf_pages",
    "RAGError",
]


class RAGError(RuntimeError):
    """An embedding / chat endpoint or PDF tool failed."""


# -- chunking -----------------------------------------------------------------


def normalize_ws(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\f", "\n")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\s*\n\s*\n\s*", "\n\n", text)
    return text.strip()


def chunk_text(text: str, chunk_size: int = 800, overlap: int = 120) -> List[str]:
    """Split ``text`` into chunks of at most ``chunk_size`` characters, each
    starting ``overlap`` characters (rounded to a word boundary) before the
    previous one ended, so a passage cut by a boundary is whole in one of
    the two chunks when it is shorter than ``overlap``."""
    if chunk_size <= 0:
        raise ValueError("chunk_size must be > 0")
    if not 0 <= overlap < chunk_size:
        raise ValueError("overlap must be >= 0 and < chunk_size")
    text = normalize_ws(text)
    if not text:
        return []
    out: List[str] = []
    start, n = 0, len(text)
    while start < n:
        end = min(start + chunk_size, n)
        if end < n:
            # Cut at the last whitespace in the window (if any in its back half).
            cut = text.rfind(" ", start + chunk_size // 2, end)
            nl = text.rfind("\n", start + chunk_size // 2, end)
            cut = max(cut, nl)
            if cut > start:
                end = cut
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        if end >= n:
            break
        nxt = max(end - overlap, start + 1)
        # Start the next chunk at a word start.
        while nxt < end and not text[nxt - 1].isspace():
            nxt += 1
        start = nxt if nxt < end else end
    return out


# -- embedders ------------------------------------------------------------------


class Embedder:
    """``embed(texts) -> vectors``; ``dim`` is known after the first call
    (or up front for :class:`HashEmbedder`); ``name`` identifies the model."""

    name: str = "embedder"
    dim: Optional[int] = None

    def embed(self, texts: Sequence[str]) -> List[List[float]]:  # pragma: no cover - interface
        raise NotImplementedError

    def embed_one(self, text: str) -> List[float]:
        return self.embed([text])[0]

    def probe_dim(self) -> int:
        """The vector length (embeds a probe text if not yet known)."""
        if self.dim is None:
            self.dim = len(self.embed_one("dimension probe"))
        return self.dim


_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder(Embedder):
    """Offline, deterministic embeddings: each word and each character
    n-gram (of the word padded with spaces) is hashed (BLAKE2b) to a
    dimension and a sign; counts are log-scaled and the vector is
    L2-normalised. Same text, same vector, in every process and version.

    Args:
        dim: vector length.
        ngrams: character n-gram lengths.
        word_weight: weight of whole-word features relative to n-grams.
    """

    def __init__(self, dim: int = 384, ngrams: Tuple[int, ...] = (3, 4, 5), word_weight: float = 2.0) -> None:
        if dim < 8:
            raise ValueError("dim must be >= 8")
        self.dim = dim
        self.ngrams = tuple(ngrams)
        self.word_weight = word_weight
        self.name = f"hash-ngram-{dim}"

    def _index(self, feature: str) -> Tuple[int, float]:
        h = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        v = int.from_bytes(h, "little")
        return v % self.dim, (1.0 if (v >> 63) & 1 else -1.0)

    def embed_text(self, text: str) -> List[float]:
        counts: Dict[str, float] = {}
        for w in _WORD.findall(text.lower()):
            counts["w:" + w] = counts.get("w:" + w, 0.0) + self.word_weight
            padded = f" {w} "
            for n in self.ngrams:
                for i in range(max(1, len(padded) - n + 1)):
                    g = "g:" + padded[i : i + n]
                    counts[g] = counts.get(g, 0.0) + 1.0
        vec = [0.0] * self.dim
        for feat, c in counts.items():
            i, sign = self._index(feat)
            vec[i] += sign * (1.0 + math.log(c))
        norm = math.sqrt(sum(x * x for x in vec))
        if norm == 0:
            vec[0] = 1.0  # empty text: a fixed unit vector, never all zeros
            return vec
        return [x / norm for x in vec]

    def embed(self, texts: Sequence[str]) -> List[List[float]]:
        return [self.embed_text(t) for t in texts]


def _post_json(url: str, body: Mapping[str, Any], headers: Optional[Mapping[str, str]] = None, timeout: float = 120.0) -> Any:
    data = json.dumps(body).encode("utf-8")
    h = {"Content-Type": "application/json", "Accept": "application/json"}
    if headers:
        h.update(headers)
    req = urllib.request.Request(url, data=data, headers=h, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", "replace")[:500]
        raise RAGError(f"POST {url}: HTTP {e.code}: {detail}") from e
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise RAGError(f"POST {url}: {e}") from e


class OpenAIEmbedder(Embedder):
    """An OpenAI-compatible embeddings endpoint: ``POST {base_url}/embeddings``
    with ``{"model", "input": [texts]}`` (OpenAI, vLLM, LM Studio, llama.cpp
    server, Ollama's ``/v1``...)."""

    def __init__(self, model: str, base_url: str = "https://api.openai.com/v1", api_key: Optional[str] = None, timeout: float = 120.0, batch: int = 64) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.batch = batch
        self.name = model

    def embed(self, texts: Sequence[str]) -> List[List[float]]:
        out: List[List[float]] = []
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else None
        for i in range(0, len(texts), self.batch):
            part = list(texts[i : i + self.batch])
            data = _post_json(f"{self.base_url}/embeddings", {"model": self.model, "input": part}, headers, self.timeout)
            items = sorted(data.get("data", []), key=lambda d: d.get("index", 0))
            if len(items) != len(part):
                raise RAGError(f"embeddings endpoint returned {len(items)} vectors for {len(part)} inputs")
            out.extend([float(x) for x in d["embedding"]] for d in items)
        if out and self.dim is None:
            self.dim = len(out[0])
        return out


class OllamaEmbedder(Embedder):
    """Ollama: ``POST {base_url}/api/embed`` with ``{"model", "input"}``."""

    def __init__(self, model: str = "nomic-embed-text", base_url: str = "http://localhost:11434", timeout: float = 120.0) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.name = model

    def embed(self, texts: Sequence[str]) -> List[List[float]]:
        data = _post_json(f"{self.base_url}/api/embed", {"model": self.model, "input": list(texts)}, None, self.timeout)
        vecs = data.get("embeddings")
        if not isinstance(vecs, list) or len(vecs) != len(texts):
            raise RAGError(f"Ollama /api/embed returned no embeddings: {str(data)[:200]}")
        out = [[float(x) for x in v] for v in vecs]
        if out and self.dim is None:
            self.dim = len(out[0])
        return out


# -- chat models ------------------------------------------------------------------


class ChatModel:
    """``complete(messages) -> answer text``; messages are
    ``{"role": "system"|"user"|"assistant", "content": str}``."""

    name: str = "chat"

    def complete(self, messages: Sequence[Mapping[str, str]], temperature: float = 0.1, max_tokens: Optional[int] = None) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class OpenAIChat(ChatModel):
    """An OpenAI-compatible ``POST {base_url}/chat/completions``."""

    def __init__(self, model: str, base_url: str = "https://api.openai.com/v1", api_key: Optional[str] = None, timeout: float = 240.0) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.name = model

    def complete(self, messages: Sequence[Mapping[str, str]], temperature: float = 0.1, max_tokens: Optional[int] = None) -> str:
        body: Dict[str, Any] = {"model": self.model, "messages": [dict(m) for m in messages], "temperature": temperature}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else None
        data = _post_json(f"{self.base_url}/chat/completions", body, headers, self.timeout)
        try:
            return str(data["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as e:
            raise RAGError(f"unexpected chat answer: {str(data)[:200]}") from e


class OllamaChat(ChatModel):
    """Ollama: ``POST {base_url}/api/chat`` with ``stream: false``."""

    def __init__(self, model: str, base_url: str = "http://localhost:11434", timeout: float = 240.0) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.name = model

    def complete(self, messages: Sequence[Mapping[str, str]], temperature: float = 0.1, max_tokens: Optional[int] = None) -> str:
        opts: Dict[str, Any] = {"temperature": temperature}
        if max_tokens is not None:
            opts["num_predict"] = max_tokens
        body = {"model": self.model, "messages": [dict(m) for m in messages], "stream": False, "options": opts}
        data = _post_json(f"{self.base_url}/api/chat", body, None, self.timeout)
        msg = data.get("message") if isinstance(data, dict) else None
        if not isinstance(msg, dict):
            raise RAGError(f"unexpected Ollama answer: {str(data)[:200]}")
        return str(msg.get("content") or "")


# -- configuration from the environment ---------------------------------------------


def _env(env: Optional[Mapping[str, str]]) -> Mapping[str, str]:
    return os.environ if env is None else env


def embedder_from_env(env: Optional[Mapping[str, str]] = None) -> Embedder:
    """The embedder that ``LUMA_EMBEDDER`` names:

    * ``hash`` (default): :class:`HashEmbedder` with ``LUMA_EMBED_DIM``
      (384) — offline.
    * ``openai``: :class:`OpenAIEmbedder` with ``EMBEDDING_MODEL``
      (text-embedding-3-small), ``OPENAI_BASE_URL``
      (https://api.openai.com/v1), ``OPENAI_API_KEY``.
    * ``ollama``: :class:`OllamaEmbedder` with ``OLLAMA_EMBED_MODEL``
      (nomic-embed-text), ``OLLAMA_BASE_URL`` (http://localhost:11434).
    """
    e = _env(env)
    kind = (e.get("LUMA_EMBEDDER") or "hash").strip().lower()
    if kind == "hash":
        return HashEmbedder(dim=int(e.get("LUMA_EMBED_DIM") or 384))
    if kind == "openai":
        return OpenAIEmbedder(
            e.get("EMBEDDING_MODEL") or "text-embedding-3-small",
            e.get("OPENAI_BASE_URL") or "https://api.openai.com/v1",
            e.get("OPENAI_API_KEY"),
        )
    if kind == "ollama":
        return OllamaEmbedder(e.get("OLLAMA_EMBED_MODEL") or "nomic-embed-text", e.get("OLLAMA_BASE_URL") or "http://localhost:11434")
    raise ValueError(f"LUMA_EMBEDDER must be hash, openai or ollama, got {kind!r}")


def chat_from_env(env: Optional[Mapping[str, str]] = None) -> Optional[ChatModel]:
    """The chat model that ``LUMA_CHAT`` names, or ``None`` (the default:
    no model, callers show the retrieved context):

    * ``openai``: :class:`OpenAIChat` with ``LLM_MODEL`` (gpt-4o-mini),
      ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``.
    * ``ollama``: :class:`OllamaChat` with ``OLLAMA_CHAT_MODEL`` (llama3.2),
      ``OLLAMA_BASE_URL``.
    """
    e = _env(env)
    kind = (e.get("LUMA_CHAT") or "").strip().lower()
    if kind in ("", "none", "off"):
        return None
    if kind == "openai":
        return OpenAIChat(e.get("LLM_MODEL") or "gpt-4o-mini", e.get("OPENAI_BASE_URL") or "https://api.openai.com/v1", e.get("OPENAI_API_KEY"))
    if kind == "ollama":
        return OllamaChat(e.get("OLLAMA_CHAT_MODEL") or "llama3.2", e.get("OLLAMA_BASE_URL") or "http://localhost:11434")
    raise ValueError(f"LUMA_CHAT must be openai, ollama or none, got {kind!r}")


def build_prompt(question: str, contexts: Sequence[str], sources: Optional[Sequence[str]] = None) -> str:
    """A grounded prompt: numbered context blocks, then the question."""
    blocks = []
    for i, c in enumerate(contexts, 1):
        label = f"[{i}]" + (f" {sources[i - 1]}" if sources and i - 1 < len(sources) else "")
        blocks.append(f"{label}\n{c}")
    ctx = "\n\n".join(blocks) if blocks else "(no context found)"
    return (
        "Answer the question using only the context below. Cite the numbers of the "
        "blocks you used, like [1]. If the answer is not in the context, say so.\n\n"
        f"Context:\n{ctx}\n\nQuestion: {question}\nAnswer:"
    )


# -- PDF text ---------------------------------------------------------------------


def extract_pdf_pages(path: str, prefer: Optional[str] = None) -> List[str]:
    """The text of each page of a PDF.

    Uses the ``pypdf`` module when it is installed, else the ``pdftotext``
    program (``apt-get install poppler-utils``). ``prefer`` forces one:
    ``"pypdf"`` or ``"pdftotext"``.

    Raises:
        RAGError: neither is available, or extraction failed.
    """
    if prefer not in (None, "pypdf", "pdftotext"):
        raise ValueError("prefer must be None, 'pypdf' or 'pdftotext'")
    if prefer in (None, "pypdf"):
        try:
            import pypdf  # type: ignore[import-not-found]
        except ImportError:
            if prefer == "pypdf":
                raise RAGError("the pypdf module is not installed")
        else:
            reader = pypdf.PdfReader(path)
            return [(p.extract_text() or "") for p in reader.pages]
    exe = shutil.which("pdftotext")
    if exe is None:
        raise RAGError("no PDF text extractor: install the pypdf module or the pdftotext program (Debian: apt-get install poppler-utils)")
    try:
        out = subprocess.run([exe, "-enc", "UTF-8", "-layout", path, "-"], check=True, capture_output=True, timeout=300)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        err = getattr(e, "stderr", b"") or b""
        raise RAGError(f"pdftotext failed on {path}: {err.decode('utf-8', 'replace').strip()}") from e
    pages = out.stdout.decode("utf-8", "replace").split("\f")
    if pages and not pages[-1].strip():
        pages.pop()  # pdftotext ends the last page with a form feed
    return pages
