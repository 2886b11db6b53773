"""The distribution builds and installs offline (in-tree PEP 517 backend,
no build dependency), with both packages and their py.typed markers."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile
from pathlib import Path

from tests._server import SDK


def backend():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("_luma_build", SDK / "_luma_build.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


class BuildTest(unittest.TestCase):
    def test_wheel_and_sdist(self) -> None:
        b = backend()
        self.assertEqual(b.get_requires_for_build_wheel(), [])
        import luma

        with tempfile.TemporaryDirectory() as d:
            name = b.build_wheel(d)
            self.assertEqual(name, f"luma_sdk-{luma.__version__}-py3-none-any.whl")
            with zipfile.ZipFile(Path(d) / name) as zf:
                names = set(zf.namelist())
                meta = zf.read(f"luma_sdk-{luma.__version__}.dist-info/METADATA").decode()
                record = zf.read(f"luma_sdk-{luma.__version__}.dist-info/RECORD").decode()
            for must in ("luma/__init__.py", "luma/py.typed", "luma/stream.py", "rustkissvdb/__init__.py", "rustkissvdb/py.typed"):
                self.assertIn(must, names)
            self.assertFalse(any("__pycache__" in n or n.startswith("tests/") for n in names))
            self.assertIn("Name: luma-sdk", meta)
            self.assertIn("Requires-Python: >=3.9", meta)
            self.assertNotIn("Requires-Dist", meta)  # zero dependencies
            self.assertIn("luma/client.py,sha256=", record)
            sdist = b.build_sdist(d)
            with tarfile.open(Path(d) / sdist) as tf:
                members = tf.getnames()
            self.assertIn(f"luma_sdk-{luma.__version__}/pyproject.toml", members)
            self.assertIn(f"luma_sdk-{luma.__version__}/_luma_build.py", members)
            ed = b.build_editable(d)
            with zipfile.ZipFile(Path(d) / ed) as zf:
                self.assertEqual(zf.read("luma_sdk.pth").decode().strip(), str(SDK))

    @unittest.skipUnless(importlib.util.find_spec("pip"), "pip is not installed")
    def test_pip_install_offline(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            target = Path(d) / "site"
            p = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--target", str(target), str(SDK)],
                capture_output=True, text=True, timeout=300,
            )
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            code = "import luma, rustkissvdb; print(luma.__file__); print(rustkissvdb.Client.__name__)"
            out = subprocess.run([sys.executable, "-c", code], cwd=d, env={"PYTHONPATH": str(target)}, capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertTrue(out.stdout.startswith(str(target)), out.stdout)


if __name__ == "__main__":
    unittest.main()
