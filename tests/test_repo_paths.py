r"""Every repository path the project names exists: no comment, doc or setting points at a file
that was moved or removed.

Where we look: the docs (README.md, EDITING.md, docs/*.md, every README.md), the code, whole:
comments, docstrings and strings (*.py, *.js, *.css, *.html, *.sh, .ci/run) and the settings files
(Makefile, netlify.toml, mkdocs.yml, pyproject.toml, requirements*.txt, content-style.yml).
Only the checkout's files that .gitignore does not leave out; never tests/fixtures/ (test data)
or site_content/'s pages (the site's own text).

What counts as a path: a word that starts with one of the repository's top-level folders and a
slash (``formsvc/worker.py``, ``hooks/content_checks/``), or the name of a top-level file (those
there are now, and any upper-case Markdown name, such as ``README.md``). It must exist, as a file
or a folder, in the repository, or under a folder of tests/fixtures/ (a test naming a page of
its fixture site, ``docs/links.md``). Left alone: a word inside a longer path or an address
(after ``/``, ``.`` or a letter); one with a placeholder or pattern in it (``<``, ``{``, ``*``,
``$``, ``\``, ``...``); anything in node_modules/ or __pycache__/. Generated folders at the top
(site/, var/, .venv/, mutants/) are not folders of the repository, so they never count. A path
that is right to name but not made yet goes in NOT_THERE_YET, with the reason.

A deliberate example that does not exist: put ``example-path`` on the same line (in a comment
where the file has them), and that line is skipped; on the opening line of a fenced code block
(```` ```text example-path ````), the whole block is.
"""
from __future__ import annotations

import os
import re
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

from testsupport import ROOT

SCANNED = ["README.md", "EDITING.md", "docs/*.md", "*README.md",
           "*.py", "*.js", "*.css", "*.html", "*.sh", ".ci/run",
           "Makefile", "netlify.toml", "mkdocs.yml", "pyproject.toml", "requirements*.txt", "content-style.yml"]
NOT_SCANNED = ["tests/fixtures/*", "site_content/*.md"]
MARKER = "example-path"
# Named, and right to name, but not in the repository yet: path -> why.
NOT_THERE_YET = {
    "site_content/images/": "where EDITING.md tells editors to save pictures (hooks/content_checks/checks.py "
                            "asks for it there); git keeps no empty folder, so it comes with the first picture",
}
GENERATED = {"node_modules", "__pycache__"}
# A word that could be a path, not preceded by a character that would make it part of a
# longer path, a URL or a dotted name; it ends before anything a path here never has.
_WORD = re.compile(r"(?<![\w./@~-])[\w.][\w./<>{}*$+\\-]*")
_PLACEHOLDER = re.compile(r"[<>{}*$\\]|\.\.\.")
_UPPER_MARKDOWN = re.compile(r"^[A-Z][A-Z0-9_-]*\.md$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _gitignore_rules(path) -> list[str]:
    rules = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert not [rule for rule in rules if rule.startswith("!")], f"{path}: teach _ignored .gitignore's '!' rules"
    return rules


def _ignored(rules: list[str], path: str, is_folder: bool) -> bool:
    """Does one of .gitignore's kinds of rule here leave ``path`` (relative to that .gitignore's
    folder) out: ``name``, ``*.ext``, ``name/`` (folders only), ``/name`` (that folder only)?"""
    for rule in rules:
        if rule.endswith("/") and not is_folder:
            continue
        anchored = "/" in rule.rstrip("/")
        if fnmatch(path if anchored else path.rsplit("/", 1)[-1], rule.strip("/")):
            return True
    return False


def repository_files() -> list[str]:
    """The checkout's files less what the .gitignore files leave out: what git would list, tracked or new.

    Read from the folder rather than asked of git, so this stays a fast test that starts no program.
    """
    rules_in: dict[PurePosixPath, list[str]] = {}
    files = []
    for folder, folders, names in os.walk(ROOT):
        here = PurePosixPath(os.path.relpath(folder, ROOT))
        if ".gitignore" in names:
            rules_in[here] = _gitignore_rules(Path(folder, ".gitignore"))

        def kept(name: str, is_folder: bool) -> bool:
            path = here / name
            return name != ".git" and not any(_ignored(rules, str(path.relative_to(base)), is_folder)
                                              for base, rules in rules_in.items() if base in path.parents)

        folders[:] = [name for name in folders if kept(name, True)]
        files += [str(here / name) for name in names if kept(name, False)]
    return sorted(files)


def named_paths(text: str, top_folders: set[str], top_files: set[str]):
    """(line number, path) for each word of ``text`` that names a repository path."""
    fence, skipped_block = None, False
    for number, line in enumerate(text.splitlines(), 1):
        opens = _FENCE.match(line)
        if opens and fence is None:
            fence, skipped_block = opens.group(1), MARKER in line
        elif opens and line.strip().startswith(fence):
            fence, skipped_block = None, False
        if MARKER in line or skipped_block:
            continue
        for match in _WORD.finditer(line):
            word = match.group()
            if _PLACEHOLDER.search(word):
                continue
            word = word.rstrip(".,:;")  # the end of a sentence, not of the path
            if GENERATED & set(word.split("/")):
                continue
            first, slash, _ = word.partition("/")
            if (slash and first in top_folders) or (not slash and (word in top_files or _UPPER_MARKDOWN.match(word))):
                yield number, word


def missing_paths() -> list[str]:
    files = repository_files()
    existing = set(files) | {str(parent) for name in files for parent in PurePosixPath(name).parents}
    # Test data: a page of a fixture site is named as that site names it (docs/links.md).
    existing |= {name.split("/", 3)[3] for name in existing if name.count("/") >= 3
                 and name.startswith("tests/fixtures/")}
    existing |= {path.rstrip("/") for path in NOT_THERE_YET}
    top_folders = {name.split("/", 1)[0] for name in files if "/" in name}
    top_files = {name for name in files if "/" not in name}
    missing = []
    for name in files:
        if not any(fnmatch(name, p) for p in SCANNED) or any(fnmatch(name, p) for p in NOT_SCANNED):
            continue
        text = (ROOT / name).read_text(encoding="utf-8")
        for number, path in named_paths(text, top_folders, top_files):
            if path.rstrip("/") not in existing:
                missing.append(f"{name}:{number}: {path}")
    return missing


def test_every_path_named_in_docs_code_and_settings_exists():
    missing = missing_paths()
    assert not missing, "named but not in the repository (fix the name, or mark a deliberate example " \
                        f"with '{MARKER}'):\n" + "\n".join(missing)


def test_paths_are_recognised_as_the_docstring_says():
    # Every name here is made up, so each line carries the marker.
    text = "\n".join([
        "See formsvc/nowhere.py, and hooks/gone/ too.",  # found, less the sentence's full stop; example-path
        "PLAN.md decision 3; mkdocs.yml",  # an upper-case .md, a top-level file there now; example-path
        "https://example.org/formsvc/x.py /work/formsvc/y.py a/formsvc/z.py",  # in longer paths; example-path
        r"formsvc/<module>.py tests/test_*.py formsvc/${NAME} formsvc/... hooks/a\.py",  # patterns; example-path
        "site/index.html var/outbox.sqlite3 hooks/node_modules/x",  # generated; example-path
        "formsvc/made_up.py  # example-path",
        "```text example-path", "formsvc/in_a_marked_block.py", "```",  # example-path
        "~~~", "hooks/after_the_block.py", "~~~",  # example-path
    ])
    found = list(named_paths(text, {"formsvc", "hooks"}, {"mkdocs.yml"}))
    assert found == [(1, "formsvc/nowhere.py"), (1, "hooks/gone/"), (2, "PLAN.md"), (2, "mkdocs.yml"),  # example-path
                     (11, "hooks/after_the_block.py")]  # example-path
