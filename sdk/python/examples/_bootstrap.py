"""Shared by the examples: lets them run from a checkout without installing
the SDK, and turns Luma errors into a one-line message and exit status 1."""

import sys
from pathlib import Path
from typing import Callable

try:
    import luma  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def run(main: Callable[[], int]) -> None:
    import luma
    from luma.rag import RAGError

    try:
        code = main()
    except (luma.LumaError, RAGError) as e:
        print(f"error: {e}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
