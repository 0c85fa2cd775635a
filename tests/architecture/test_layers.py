"""The import graph stays one-way (issue 13 §5): the core knows no framework, adapters do not know each
other, and the evaluation and benchmarks drive the core, not an adapter.

Imports are read with `ast` from every .py file under each package, including imports inside functions
(a lazy `from fastapi import ...` in a helper is still a dependency), so nothing has to be importable.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FRAMEWORKS = ("fastapi", "starlette", "slack_bolt", "slack_sdk", "typer", "rich")
FIRST_PARTY = ("assistant", "ingest", "integrations", "eval", "bench", "tests")


def imported_modules(source: str, module: str) -> set[str]:
    """Every module `source` imports anywhere (top level or inside functions), as dotted names.

    `module` is the dotted name of the file itself, so relative imports (`from .x import y`) resolve.
    `from a import b` yields both `a` and `a.b` (b may be a submodule).
    """
    found: set[str] = set()
    package = module.split(".")[:-1]  # the package a relative import starts from (also for __init__)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            if prefix:
                found.add(prefix)
            found.update(f"{prefix}.{alias.name}".strip(".") for alias in node.names if alias.name != "*")
    return found


def package_imports(package: str, repo: Path = REPO) -> dict[str, set[str]]:
    """{file path relative to the repo: modules it imports} for every .py file under `package`."""
    root = repo / package
    assert root.is_dir(), root
    result = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(repo)
        module = ".".join(relative.with_suffix("").parts)
        result[str(relative)] = imported_modules(path.read_text(encoding="utf-8"), module)
    assert result, f"no Python files under {package}/"
    return result


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(package: str, forbidden: tuple[str, ...], *, allowed: tuple[str, ...] = (),
               repo: Path = REPO) -> list[str]:
    """"<file> imports <module>" for each import under `package` of a module in (or under) `forbidden`,
    except those in (or under) `allowed`."""
    return sorted(
        f"{path} imports {name}"
        for path, names in package_imports(package, repo).items()
        for name in names
        if any(_matches(name, banned) for banned in forbidden)
        and not any(_matches(name, ok) for ok in allowed)
    )


@pytest.mark.parametrize("package", ["assistant", "ingest"])
def test_core_imports_no_framework_and_no_adapter(package):
    assert violations(package, FRAMEWORKS + ("integrations",)) == []


def test_http_adapter_does_not_import_slack():
    # The Slack-over-HTTP route is mounted by the launcher (`partnership serve`), not by the HTTP app.
    assert violations("integrations/http", ("integrations.slack",)) == []


def test_slack_adapter_does_not_import_http():
    assert violations("integrations/slack", ("integrations.http",)) == []


def test_shared_rate_limiter_is_framework_free():
    # integrations/ratelimit.py is used by both adapters, so it may know neither of them.
    path = REPO / "integrations" / "ratelimit.py"
    names = imported_modules(path.read_text(encoding="utf-8"), "integrations.ratelimit")
    banned = FRAMEWORKS + ("integrations.http", "integrations.slack")
    assert [n for n in names if any(_matches(n, b) for b in banned)] == []


# Known exception, kept explicit so it cannot grow unnoticed: the benchmarks reuse the evaluation's
# dataset (questions to send) and its naive-RAG baseline and runner (baseline_bench) rather than keeping
# a second copy. Moving those into `assistant`/`ingest` would be a larger change than this guard rail;
# anything else from `eval` (or any adapter) in bench/ fails the test.
KNOWN_EXCEPTIONS = {
    "bench": ("eval.schema", "eval.baseline", "eval.runner"),
}


@pytest.mark.parametrize("package", ["eval", "bench"])
def test_eval_and_bench_drive_the_core_not_the_adapters(package):
    allowed_first_party = ("assistant", "ingest", package)
    foreign = tuple(p for p in FIRST_PARTY if p not in allowed_first_party)
    # bench starts `partnership serve` as a subprocess (a command line in a string, not an import);
    # that is how a benchmark should reach an adapter.
    assert violations(package, foreign, allowed=KNOWN_EXCEPTIONS.get(package, ())) == []


# The walker itself: each rule above is only as good as its ability to see an import.

def test_walker_finds_imports_at_every_depth():
    source = (
        "import os, slack_sdk.web\n"
        "from fastapi import APIRouter\n"
        "def later():\n"
        "    from integrations.http import app\n"
        "    class Inner:\n"
        "        def method(self):\n"
        "            import rich.console as console\n"
        "try:\n"
        "    import typer\n"
        "except ImportError:\n"
        "    pass\n"
    )
    found = imported_modules(source, "assistant.example")
    assert {"os", "slack_sdk.web", "fastapi", "fastapi.APIRouter", "integrations.http",
            "integrations.http.app", "rich.console", "typer"} <= found


def test_walker_resolves_relative_imports():
    found = imported_modules("from . import blocks\nfrom ..http import app\n", "integrations.slack.bot")
    assert "integrations.slack.blocks" in found
    assert "integrations.http" in found and "integrations.http.app" in found


def test_rules_would_fail_on_a_forbidden_import(tmp_path):
    # A synthetic tree with one offending import inside a function, checked by the function the rules use.
    fake = tmp_path / "assistant" / "sub"
    fake.mkdir(parents=True)
    (fake / "mod.py").write_text("def f():\n    from integrations.slack import bot\n")
    (tmp_path / "assistant" / "clean.py").write_text("import json\n")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "b.py").write_text("from eval.schema import load_dataset\nimport eval.metrics\n")
    assert violations("assistant", FRAMEWORKS + ("integrations",), repo=tmp_path) == [
        "assistant/sub/mod.py imports integrations.slack",
        "assistant/sub/mod.py imports integrations.slack.bot",
    ]
    assert violations("assistant", ("integrations.http",), repo=tmp_path) == []
    # The bench exception covers the named modules only.
    assert violations("bench", ("eval",), allowed=KNOWN_EXCEPTIONS["bench"], repo=tmp_path) == [
        "bench/b.py imports eval.metrics",
    ]
