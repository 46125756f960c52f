"""The benchmark scripts are not run by the suite (they take minutes), so a moved or renamed
library name would only show when someone runs one: check every name they import from qualcode."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).parent.parent / "benchmarks").glob("*.py"))


def qualcode_imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for each `from qualcode... import name` and `import qualcode...` in the script."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "qualcode":
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.split(".")[0] == "qualcode"]
    return found


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_every_qualcode_name_a_benchmark_imports_exists(script: Path) -> None:
    missing = []
    for module, name in qualcode_imports(script):
        try:
            imported = importlib.import_module(module)
        except ModuleNotFoundError:
            missing.append(module)
            continue
        submodule = hasattr(imported, "__path__") and importlib.util.find_spec(f"{module}.{name}") is not None
        if name and not hasattr(imported, name) and not submodule:
            missing.append(f"{module}.{name}")
    assert not missing, f"{script.name} imports what qualcode no longer has: {missing}"


def test_the_check_finds_a_missing_name(tmp_path: Path) -> None:
    script = tmp_path / "old.py"
    script.write_text("from qualcode.exchange.interchange import load_codings_csv\nfrom qualcode.errors import QualcodeError\n")
    assert qualcode_imports(script) == [("qualcode.exchange.interchange", "load_codings_csv"), ("qualcode.errors", "QualcodeError")]
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("qualcode.exchange.interchange")
