"""Native tests of provisioner_sdk. The SDK imports the bindings componentize-py generates, so
the tests generate them first (`componentize-py bindings`, from PATH or $COMPONENTIZE_PY) from
the repository's wit/v0.2 (or $PROVISIONER_WIT) and put them on sys.path.

Run from sdk/python: `python -m unittest discover -s tests -t .`
"""

import os
import shutil
import subprocess
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
_WIT = os.environ.get("PROVISIONER_WIT", os.path.join(_HERE, "..", "..", "..", "wit", "v0.2"))


def _generate_bindings() -> None:
    tool = os.environ.get("COMPONENTIZE_PY") or shutil.which("componentize-py")
    if tool is None:
        raise RuntimeError(
            "componentize-py is not installed: `pip install componentize-py==0.25.1`, or point "
            "$COMPONENTIZE_PY at it")
    out = tempfile.mkdtemp(prefix="provisioner-sdk-bindings-")
    subprocess.run([tool, "-d", _WIT, "-w", "connector", "bindings", out], check=True)
    sys.path.insert(0, out)


try:
    import wit_world  # noqa: F401  (already on the path)
except ImportError:
    _generate_bindings()
