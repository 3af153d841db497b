"""The demo (seed data and the fake WeChat) sits above the app, outside its production imports:
the app imports it only where the CLI registers its commands, and it never imports the CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("service_hub", "models", "dispatch", "notifications")
DEMO_DATA_AND_FAKE = (
    "demo.seed",
    "demo.extras",
    "demo.names",
    "demo.addresses",
    "demo.live_orders",
    "demo.promises",
    "demo.follow_ups",
    "demo.outreach",
    "demo.fake_wechat",
)


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(imported module, enclosing top-level function or None) for every absolute import."""
    found = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = function
            if function is None and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = child.name
            if isinstance(child, ast.Import):
                found.extend((alias.name, inner) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.extend((f"{child.module}.{alias.name}", inner) for alias in child.names)
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


def _modules(*packages: str) -> list[Path]:
    return [path for package in packages for path in sorted((ROOT / package).rglob("*.py"))]


def _names(imported: str, prefix: str) -> bool:
    return imported == prefix or imported.startswith(prefix + ".")


def test_the_product_imports_the_demo_only_where_the_cli_registers_its_commands():
    importers = {
        f"{path.relative_to(ROOT)}:{function}"
        for path in _modules(*PRODUCT_PACKAGES)
        for imported, function in _imports(path)
        if _names(imported, "demo")
    }
    assert importers == {"service_hub/cli.py:register_cli"}


def test_nothing_but_create_app_imports_the_cli_so_the_demo_cannot_close_a_circle():
    importers = {
        str(path.relative_to(ROOT))
        for path in _modules(*PRODUCT_PACKAGES, "demo")
        for imported, _ in _imports(path)
        if _names(imported, "service_hub.cli")
    }
    assert importers == {"service_hub/__init__.py"}


def test_creating_the_app_loads_neither_the_demo_data_nor_the_fake_wechat(tmp_path):
    script = (
        "import sys\n"
        "from service_hub import create_app\n"
        "app = create_app({'SERVICE_HUB_ENV': 'testing', 'TESTING': True,"
        " 'SECRET_KEY': 'test-secret-key-that-is-long-enough-0123456789',"
        f" 'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path / 'app.db'}', 'REDIS_URL': None}})\n"
        "assert 'seed-demo' in app.cli.commands and 'demo' in app.cli.commands\n"
        "print(' '.join(sorted(m for m in sys.modules if m == 'demo' or m.startswith('demo.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.split()
    assert "demo.commands" in loaded
    assert [module for module in DEMO_DATA_AND_FAKE if module in loaded] == []
