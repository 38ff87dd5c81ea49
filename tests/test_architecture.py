"""Imports point one way (docs/architecture.md): a wrong one fails here, naming the file and line.

Every .py file of the repository is parsed with ast, and every import counts: at the top, inside
functions (where a cycle likes to hide), relative ones, and importlib.import_module("...") or
__import__("...") with a written name.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", ".git", "node_modules", "site", "var", "test-artifacts", "build"}

BUILDERS = {"mkdocs", "material", "zensical"}  # material: Material for MkDocs' own package
ADAPTER = "mkdocs_adapter"
# folder -> top-level names its code may not import, and why.
FORBIDDEN = {
    "formsvc": ({"sitebuild", "hooks", ADAPTER} | BUILDERS,
                "the service runs where no site is built: what it shares with the site is in contract/"),
    "sitebuild": ({"formsvc", "hooks", ADAPTER} | BUILDERS,
                  "the pipeline is the same for every builder: MkDocs calls it from mkdocs_adapter/, never "
                  "the other way; what it shares with the service is in contract/"),
}
STANDARD_LIBRARY = set(sys.stdlib_module_names)


def imports_of(path: Path, own: str) -> list[tuple[int, str]]:
    """(line, top-level module) for every import in a file; relative ones are its own package, ``own``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, own if node.level else (node.module or "").split(".")[0]))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in {"import_module", "__import__"}:
                found.append((node.lineno, node.args[0].value.lstrip(".").split(".")[0] or own))
    return found


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if not SKIP & set(p.relative_to(root).parts[:-1]))


def wrong_imports(root: Path = ROOT) -> list[str]:
    wrong = []
    for path in python_files(root):
        rel = path.relative_to(root)
        folder = rel.parts[0] if len(rel.parts) > 1 else ""
        for line, module in imports_of(path, rel.parts[0]):
            if module == folder:
                continue  # its own package
            where = f"{rel.as_posix()}:{line}: imports {module}"
            if folder == "contract" and module not in STANDARD_LIBRARY and module != "contract":
                wrong.append(f"{where}: contract/ is standard library only (both sides import it, "
                             "the site without Flask and the service without a builder)")
            elif folder in FORBIDDEN and module in FORBIDDEN[folder][0]:
                wrong.append(f"{where}: {folder}/ must not import it: {FORBIDDEN[folder][1]}")
            elif module in BUILDERS and folder != ADAPTER:
                wrong.append(f"{where}: only {ADAPTER}/ imports a site builder, so deleting it leaves a "
                             "pipeline that builds with Zensical")
            elif module in {"hooks", ADAPTER}:
                wrong.append(f"{where}: MkDocs loads {ADAPTER}/ by its path (mkdocs.yml hooks:); nothing imports it")
    return wrong


def test_imports_point_one_way():
    wrong = wrong_imports()
    assert not wrong, "Imports that point the wrong way (docs/architecture.md):\n" + "\n".join(wrong)


def test_the_layers_exist_where_the_rules_look():
    for folder in ("contract", "sitebuild", "formsvc", ADAPTER):
        assert python_files(ROOT / folder), folder
    assert not (ROOT / "hooks").exists(), "hooks/ is mkdocs_adapter/ now"
    assert (ROOT / "docs" / "architecture.md").is_file()


def test_a_wrong_import_is_caught_wherever_it_hides(tmp_path):
    """The checker itself: each kind of wrong import, in a throwaway tree, is reported with its line."""
    files = {
        "formsvc/shell.py": "def init_app(app):\n    from sitebuild import manifest\n",
        "sitebuild/prepare.py": "import yaml\n\n\ndef stage():\n    from mkdocs.exceptions import PluginError\n",
        "sitebuild/finish.py": "from formsvc import csp\n",
        "sitebuild/videos/page.py": "from .. import BuildError\nfrom ..catalogue import Video\n",
        "contract/csp.py": "import json\nimport flask\n",
        "localrun/site.py": "import importlib\nimportlib.import_module('zensical.config')\n",  # example-path
        "mkdocs_adapter/pipeline.py": "from mkdocs.exceptions import PluginError\nfrom sitebuild import finish\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    found = [line.split(": ", 2)[0] + ": " + line.split(": ", 2)[1] for line in wrong_imports(tmp_path)]
    assert found == [
        "contract/csp.py:2: imports flask",
        "formsvc/shell.py:2: imports sitebuild",
        "localrun/site.py:2: imports zensical",  # example-path
        "sitebuild/finish.py:1: imports formsvc",
        "sitebuild/prepare.py:5: imports mkdocs",
    ]
