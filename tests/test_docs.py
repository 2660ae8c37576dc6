"""Every ```python block of the documentation runs, and the pages say what the code says.

The blocks of one page run in order in one namespace (a page is one session of a reader typing
along), in a fresh working directory so that files a page saves go nowhere. Blocks that are not
meant to run use another fence: ```text for output, ```console or ```bash for shell commands.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import re
import warnings
from dataclasses import fields
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GENERATED = {"_build", "auto_examples"}
SITE_PAGES = sorted(p for p in DOCS.rglob("*.md") if not GENERATED.intersection(p.relative_to(DOCS).parts))
PAGES = [*SITE_PAGES, ROOT / "README.md"]

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)(?P<info>[^\n`]*)$")
# The fences a page may use: code that runs, output and shell lines that do not, and MyST directives.
KNOWN = {"python", "text", "console", "bash", "toml"}


def blocks(page: Path) -> list[tuple[str, int, str]]:
    """``(info, first line, code)`` of every fenced block of a Markdown page, in order."""
    found, lines, i = [], page.read_text(encoding="utf-8").splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m["fence"], m["info"].strip(), i + 1
        i += 1
        body = []
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(m["indent"]) :])
            i += 1
        found.append((info, start, "\n".join(body) + "\n"))
        i += 1
    return found


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_the_documentation_has_the_pages_the_site_links():
    names = {_name(p) for p in PAGES}
    for page in (
        "docs/index.md",
        "docs/tutorials/backprop-by-hand.md",
        "docs/tutorials/gradient-checking.md",
        "docs/tutorials/why-not-learning.md",
        "docs/reference/doctor.md",
        "docs/reference/benchmark-results.md",
        "docs/contributing.md",
        *(f"docs/reproductions/{name}.md" for name in ("sqrt", "sum-of-squares", "random-targets", "wide-range")),
        "docs/reproductions/poly32.md",
    ):
        assert page in names


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_fence_says_whether_it_runs(page):
    for info, line, _ in blocks(page):
        if info.startswith("{"):
            continue  # a MyST directive ({toctree}, {figure}, {eval-rst}...)
        assert info in KNOWN, (
            f"{_name(page)}:{line}: fence {info!r}; use ```python for code that runs, ```text for output, "
            "```console or ```bash for shell commands"
        )


@pytest.mark.parametrize("page", [p for p in PAGES if any(i == "python" for i, _, _ in blocks(p))], ids=_name)
def test_every_python_block_runs(page, tmp_path, monkeypatch):
    from nnscratch import architecture, rng

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "agg")
    # A page may register a module type or reseed the global generator; other tests must not see that.
    monkeypatch.setattr(architecture, "_REGISTRY", dict(architecture._REGISTRY))
    monkeypatch.setattr(rng, "_global", copy.deepcopy(rng._global))
    namespace: dict = {"__name__": "__docs__"}
    for info, line, code in blocks(page):
        if info != "python":
            continue
        source = compile(code, f"{_name(page)}:{line}", "exec")
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # matplotlib's non-interactive show()
            exec(source, namespace)


# --- what the pages say ----------------------------------------------------------------------------------

BANNED = [
    r"shared/seeds",
    r"\.\./shared",
    r"\b00[0-4]_[0-9a-f]{6,}",
    r"\bsessions?\b",
    r"\blent\b",
    r"these machines",
    r"the team",
    r"our machines",
]


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_pages_speak_to_users_not_about_how_the_project_is_made(page):
    text = page.read_text(encoding="utf-8")
    for pattern in BANNED:
        assert not re.search(pattern, text, re.IGNORECASE), f"{_name(page)} mentions {pattern!r}"


def test_readme_is_a_front_page_with_the_quick_start_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    # CI runs these lines as they are written here.
    assert "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/nnscratch repro sqrt" in text
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest -q -n 2"
    ) in text


def test_the_doctor_reference_lists_every_code_and_threshold():
    from nnscratch.doctor.codes import CODES, Thresholds

    text = (DOCS / "reference" / "doctor.md").read_text(encoding="utf-8")
    for code in CODES:
        assert f"`{code}`" in text, f"docs/reference/doctor.md does not describe {code}"
    for f in fields(Thresholds):
        # Written as `name` = value (or `name` = (low, high)), with the value the code has.
        m = re.search(rf"`{f.name}` = (\([^)]*\)|[-+0-9.e]+)", text)
        assert m, f"docs/reference/doctor.md does not give the threshold {f.name} as `{f.name}` = value"
        stated = tuple(float(v) for v in m[1].strip("()").split(","))
        expected = f.default if isinstance(f.default, tuple) else (f.default,)
        assert stated == tuple(float(v) for v in expected), f"{f.name}: the page says {m[1]}, the code {f.default}"


def test_each_reproduction_page_cites_its_question():
    from nnscratch import repro

    for name in repro.names():
        scenario = repro.get(name)
        text = " ".join((DOCS / "reproductions" / f"{name}.md").read_text(encoding="utf-8").split())
        assert scenario.site in text
        assert scenario.url in text  # "" when the source gives no address
        for variant in scenario.variants:
            assert f"`{variant}`" in text, f"{name}.md does not describe variant {variant}"


# --- the dependency rule the contributors' page states ------------------------------------------------------

CORE = {
    "errors",
    "callbacks",
    "backend",
    "rng",
    "validation",
    "module",
    "init",
    "activations",
    "losses",
    "schedulers",
    "layers",
    "optim",
    "data",
    "stopping",
    "training",
    "architecture",
    "serialization",
    "interop",
}
TOOLS = {"gradcheck", "testing", "zoo", "devicedouble", "doctor", "repro", "cli", "demo"}


def _imports(path: Path) -> set[str]:
    """The nnscratch modules a file imports, as top-level names (``doctor``, ``layers``...)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [n.name for n in node.names][:1])
            elif node.module and node.module.startswith("nnscratch"):
                parts = node.module.split(".")
            else:
                continue
            if len(parts) > 1 and parts[0] == "nnscratch":
                found.add(parts[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("nnscratch.")}
    return found


@pytest.mark.parametrize("name", sorted(CORE))
def test_the_engine_core_never_imports_the_tools_built_on_it(name):
    path = ROOT / "nnscratch" / f"{name}.py"
    if not path.exists():
        pytest.skip(f"nnscratch/{name}.py is gone")
    assert not _imports(path) & TOOLS, f"nnscratch/{name}.py imports {sorted(_imports(path) & TOOLS)}"


TOOL_FILES = sorted(
    [
        *(ROOT / "nnscratch" / "gradcheck").glob("*.py"),
        *(ROOT / "nnscratch" / "doctor").glob("*.py"),
        ROOT / "nnscratch" / "testing.py",
        ROOT / "nnscratch" / "zoo.py",
    ]
)


@pytest.mark.parametrize("path", TOOL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_tools_never_import_the_applications(path):
    assert not _imports(path) & {"repro", "cli", "demo"}, f"{path.relative_to(ROOT)} imports an application"
