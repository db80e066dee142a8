"""The layer rules, checked on every import the code makes (issue 17, item 3).

The rules (README, "How the code is laid out"):

- the core (``rc_dashboard/`` outside ``rc_dashboard/ui/``) never imports ``rc_dashboard.ui``, ``pages``
  or ``app``, so the analysis runs from the command line, tests and benchmarks without Streamlit;
- ``rc_dashboard/ui/`` never imports ``pages`` (pages use widgets, not the other way round);
- only ``rc_dashboard/ui/``, ``pages/`` and ``app.py`` import Streamlit;
- loading (``rc_dashboard/ingest/``) never imports analysis (``hotspots``, ``measures``, ``spc``,
  ``explore``, ``reports``): an import stores rows and knows nothing of what is computed from them.

"Every import" means ``import x`` and ``from x import y`` anywhere in a module (inside functions and
``if`` blocks too, where a lazy import hides), relative imports resolved, and
``importlib.import_module("x")`` / ``__import__("x")`` with a literal name. The checker is a pure
function of (path, source), so the test at the bottom proves it reports a violation it is shown.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ANALYSIS = (
    "rc_dashboard.hotspots",
    "rc_dashboard.measures",
    "rc_dashboard.spc",
    "rc_dashboard.explore",
    "rc_dashboard.reports",
)

# Narrow exceptions: (importing file, imported module) -> why it is allowed for now.
# (The demo loader, which adds the survey through the measures service, moved out of ingest/ to
# services/ with the storage work of issue 17, and its exception with it: none is needed now.)
EXCEPTIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    line: int
    module: str  # dotted, absolute


def module_name(path: str) -> str:
    """``rc_dashboard/services/demo_loader.py`` -> ``rc_dashboard.services.demo_loader`` (a package's ``__init__`` is the package)."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(level: int, module: str | None, path: str) -> str:
    """The absolute name of ``from <dots><module> import ...`` written in ``path``."""
    if level == 0:
        return module or ""
    package = module_name(path).split(".")
    if not path.endswith("__init__.py"):
        package = package[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _literal_import_call(node: ast.Call) -> str | None:
    """The module named by ``importlib.import_module("x")``, ``import_module("x")`` or ``__import__("x")``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in {"import_module", "__import__"} or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imports_of(path: str, source: str) -> list[Import]:
    """Every module ``source`` (the text of ``path``, relative to the repository) may import, anywhere in it.

    ``from a import b`` yields both ``a`` and ``a.b``, because ``b`` may be a submodule
    (``from rc_dashboard import ui``).
    """
    found: list[Import] = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            found += [Import(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.level, node.module, path)
            found.append(Import(node.lineno, base))
            found += [Import(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Call) and (name := _literal_import_call(node)):
            found.append(Import(node.lineno, name))
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def forbidden_for(path: str) -> tuple[str, ...]:
    """The module prefixes ``path`` (relative to the repository) may not import."""
    streamlit_allowed = path == "app.py" or path.startswith(("pages/", "rc_dashboard/ui/"))
    forbidden: list[str] = [] if streamlit_allowed else ["streamlit"]
    if path.startswith("rc_dashboard/ui/"):
        forbidden += ["pages", "app"]
    elif path.startswith("rc_dashboard/"):
        forbidden += ["rc_dashboard.ui", "pages", "app"]
    if path.startswith("rc_dashboard/ingest/"):
        forbidden += ANALYSIS
    return tuple(forbidden)


def violations(path: str, source: str, exceptions: dict[tuple[str, str], str] | None = None) -> list[str]:
    """One line per import in ``source`` that breaks a layer rule, as ``path:line imports module``."""
    exceptions = EXCEPTIONS if exceptions is None else exceptions
    forbidden = forbidden_for(path)
    found = []
    for imp in imports_of(path, source):
        if not _within(imp.module, forbidden):
            continue
        if any((path, allowed) in exceptions for allowed in _prefixes(imp.module)):
            continue
        found.append(f"{path}:{imp.line} imports {imp.module}")
    return found


def _prefixes(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def product_files() -> list[str]:
    files = [*sorted((ROOT / "rc_dashboard").rglob("*.py")), *sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py"]
    return [p.relative_to(ROOT).as_posix() for p in files]


def test_every_module_keeps_the_layer_rules():
    found = [v for path in product_files() for v in violations(path, (ROOT / path).read_text(encoding="utf-8"))]
    assert found == [], "\n".join(found)


def test_the_scan_sees_the_whole_product():
    """A guard against a vacuous pass: the files are there and the known Streamlit imports are seen."""
    files = product_files()
    assert len(files) > 80
    assert {"app.py", "pages/overview.py", "rc_dashboard/ui/layout.py", "rc_dashboard/ingest/store.py"} <= set(files)
    ui_imports = {
        i.module for i in imports_of("rc_dashboard/ui/layout.py", (ROOT / "rc_dashboard/ui/layout.py").read_text())
    }
    assert "streamlit" in ui_imports


def test_every_exception_is_still_needed():
    """An exception whose import has gone is removed, so the list says only what is true."""
    for path, module in EXCEPTIONS:
        modules = {i.module for i in imports_of(path, (ROOT / path).read_text(encoding="utf-8"))}
        assert module in modules, f"{path} no longer imports {module}: remove its exception"


# The checker itself, on synthetic modules: proof that it can fail.

STREAMLIT_IN_A_FUNCTION = '''
"""A core module that hides a Streamlit import where a top-level scan would miss it."""

def show(frame):
    import streamlit as st

    st.dataframe(frame)
'''


def test_a_streamlit_import_inside_a_core_function_is_reported():
    assert violations("rc_dashboard/charts.py", STREAMLIT_IN_A_FUNCTION) == [
        "rc_dashboard/charts.py:5 imports streamlit"
    ]


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        (
            "rc_dashboard/maps.py",
            "import importlib\nm = importlib.import_module('streamlit.components.v1')\n",
            ["rc_dashboard/maps.py:2 imports streamlit.components.v1"],
        ),
        (
            "rc_dashboard/queries.py",
            "def f():\n    from rc_dashboard import ui\n",
            ["rc_dashboard/queries.py:2 imports rc_dashboard.ui"],
        ),
        (
            "rc_dashboard/reports/service.py",
            "from ..ui.cached import x\n",
            [
                "rc_dashboard/reports/service.py:1 imports rc_dashboard.ui.cached",
                "rc_dashboard/reports/service.py:1 imports rc_dashboard.ui.cached.x",
            ],
        ),
        (
            "rc_dashboard/ui/filters.py",
            "if True:\n    import pages.overview\n",
            ["rc_dashboard/ui/filters.py:2 imports pages.overview"],
        ),
        (
            "rc_dashboard/ingest/store.py",
            "def f():\n    from rc_dashboard.hotspots import service\n",
            [
                "rc_dashboard/ingest/store.py:2 imports rc_dashboard.hotspots",
                "rc_dashboard/ingest/store.py:2 imports rc_dashboard.hotspots.service",
            ],
        ),
        (
            "rc_dashboard/ingest/store.py",
            "from . import areas\nx = __import__('rc_dashboard.spc')\n",
            ["rc_dashboard/ingest/store.py:2 imports rc_dashboard.spc"],
        ),
        ("rc_dashboard/ui/layout.py", "import streamlit as st\n", []),
        ("pages/map.py", "import streamlit as st\nfrom rc_dashboard.ui import cached\n", []),
        ("rc_dashboard/geography.py", "import streamlit_like_name\nimport applications\n", []),
    ],
)
def test_the_checker_on_synthetic_modules(path, source, expected):
    assert violations(path, source, exceptions={}) == expected


def test_an_exception_covers_only_its_own_file_and_module():
    exceptions = {("rc_dashboard/ingest/demo.py", "rc_dashboard.measures"): "reason"}
    assert violations("rc_dashboard/ingest/demo.py", "from rc_dashboard import measures\n", exceptions) == []
    assert violations("rc_dashboard/ingest/demo.py", "from rc_dashboard import spc\n", exceptions) == [
        "rc_dashboard/ingest/demo.py:1 imports rc_dashboard.spc"
    ]
    assert violations("rc_dashboard/ingest/store.py", "from rc_dashboard import measures\n", exceptions) == [
        "rc_dashboard/ingest/store.py:1 imports rc_dashboard.measures"
    ]


# Storage behind one door (issue 17): the analysis modules take DataFrames and return results; reads
# are in queries.py, writes in ingest/store.py, and services/ joins them.
PURE_ANALYSIS = sorted(
    [*(ROOT / "rc_dashboard" / "hotspots").glob("*.py")]
    + [ROOT / "rc_dashboard" / f"{name}.py" for name in ("explore", "measures", "spc", "scorecard")]
)
STORAGE = (
    "sqlalchemy",
    "rc_dashboard.db",
    "rc_dashboard.queries",
    "rc_dashboard.ingest",
    "rc_dashboard.results",
    "rc_dashboard.stored",
    "rc_dashboard.services",
)


# The filter is a value (months, categories, sources) that analyses take, defined beside the reads it drives.
VALUES_FROM_STORAGE = {"rc_dashboard.queries.IncidentFilter"}


def storage_uses(path: Path, source: str) -> list[str]:
    """Imports of storage, and parameters named engine or conn, in one analysis module."""
    imported = imports_of(path.relative_to(ROOT).as_posix(), source)
    values = {i.line for i in imported if i.module in VALUES_FROM_STORAGE}
    found = [
        f"{path.name}:{i.line} imports {i.module}"
        for i in imported
        if any(i.module == s or i.module.startswith(s + ".") for s in STORAGE)
        and not (i.line in values and i.module in ("rc_dashboard.queries", *VALUES_FROM_STORAGE))
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [
                f"{path.name}:{node.lineno} {node.name}({a.arg})"
                for a in node.args.args + node.args.kwonlyargs
                if a.arg in ("engine", "conn", "connection")
            ]
    return found


def test_analysis_modules_take_no_engine_and_import_no_storage():
    assert len(PURE_ANALYSIS) > 10
    found = [use for path in PURE_ANALYSIS for use in storage_uses(path, path.read_text(encoding="utf-8"))]
    assert found == [], found


def test_the_storage_check_can_fail():
    bad = "from sqlalchemy import Engine\ndef scan(engine: Engine):\n    from rc_dashboard.queries import located_points\n"
    found = storage_uses(ROOT / "rc_dashboard" / "hotspots" / "x.py", bad)
    assert {"x.py:1 imports sqlalchemy", "x.py:3 imports rc_dashboard.queries", "x.py:2 scan(engine)"} <= set(found)
    assert (
        storage_uses(ROOT / "rc_dashboard" / "hotspots" / "x.py", "from rc_dashboard.queries import IncidentFilter\n")
        == []
    )
