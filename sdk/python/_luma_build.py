"""A tiny in-tree PEP 517 / PEP 660 build backend, standard library only.

Why: ``pip install ./sdk/python`` must work offline. setuptools' backend
needs the ``wheel`` package (setuptools < 70.1) or a download into an
isolated build environment; this backend needs nothing, so pip's default
build isolation works with no network. It builds a pure-Python wheel of the
``luma`` and ``rustkissvdb`` packages, an sdist, and editable installs
(a ``.pth`` file pointing at this directory).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent
NAME = "luma-sdk"
DIST = "luma_sdk"
PACKAGES = ("luma", "rustkissvdb")
SUMMARY = (
    "Python client for Luma, the data layer for AI apps: state store, event stream, "
    "vectors, documents, SQL. Standard library only."
)


def _version() -> str:
    text = (ROOT / "luma" / "_version.py").read_text(encoding="utf-8")
    m = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    if not m:
        raise RuntimeError("luma/_version.py has no __version__")
    return m.group(1)


def _metadata() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {NAME}\n"
        f"Version: {_version()}\n"
        f"Summary: {SUMMARY}\n"
        "License: MIT\n"
        "Requires-Python: >=3.9\n"
        "Classifier: Programming Language :: Python :: 3\n"
        "Classifier: Typing :: Typed\n"
        "Description-Content-Type: text/markdown\n"
        "\n" + readme
    )


def _wheel_file() -> str:
    return "Wheel-Version: 1.0\nGenerator: luma-build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _package_files() -> List[Tuple[str, Path]]:
    out: List[Tuple[str, Path]] = []
    for pkg in PACKAGES:
        for p in sorted((ROOT / pkg).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
                out.append((p.relative_to(ROOT).as_posix(), p))
    return out


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory: str, files: Dict[str, bytes]) -> str:
    distinfo = f"{DIST}-{_version()}.dist-info"
    files = dict(files)
    files[f"{distinfo}/METADATA"] = _metadata().encode("utf-8")
    files[f"{distinfo}/WHEEL"] = _wheel_file().encode("utf-8")
    files[f"{distinfo}/top_level.txt"] = ("\n".join(PACKAGES) + "\n").encode("utf-8")
    record = [_record_line(n, d) for n, d in files.items()]
    record.append(f"{distinfo}/RECORD,,")
    files[f"{distinfo}/RECORD"] = ("\n".join(record) + "\n").encode("utf-8")
    name = f"{DIST}-{_version()}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in files.items():
            zi = zipfile.ZipInfo(n, date_time=(2020, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, d)
    return name


# -- PEP 517 hooks -------------------------------------------------------------


def get_requires_for_build_wheel(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[dict] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Optional[dict] = None) -> str:
    distinfo = f"{DIST}-{_version()}.dist-info"
    d = Path(metadata_directory) / distinfo
    d.mkdir(parents=True, exist_ok=True)
    (d / "METADATA").write_text(_metadata(), encoding="utf-8")
    (d / "WHEEL").write_text(_wheel_file(), encoding="utf-8")
    return distinfo


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory: str, config_settings: Optional[dict] = None, metadata_directory: Optional[str] = None) -> str:
    return _write_wheel(wheel_directory, {n: p.read_bytes() for n, p in _package_files()})


def build_editable(wheel_directory: str, config_settings: Optional[dict] = None, metadata_directory: Optional[str] = None) -> str:
    return _write_wheel(wheel_directory, {f"{DIST}.pth": (str(ROOT) + "\n").encode("utf-8")})


def build_sdist(sdist_directory: str, config_settings: Optional[dict] = None) -> str:
    base = f"{DIST}-{_version()}"
    name = f"{base}.tar.gz"
    extra = ["pyproject.toml", "README.md", "_luma_build.py"]
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as tf:
        def add(arcname: str, data: bytes) -> None:
            ti = tarfile.TarInfo(f"{base}/{arcname}")
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1577836800
            tf.addfile(ti, io.BytesIO(data))

        add("PKG-INFO", _metadata().encode("utf-8"))
        for n in extra:
            add(n, (ROOT / n).read_bytes())
        for n, p in _package_files():
            add(n, p.read_bytes())
    return name
