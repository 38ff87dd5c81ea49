"""The site pipeline, the same for any builder: prepare -> build -> finish -> verify.

- prepare (prepare.py): the content checks (content_checks/) and the Videos page made
  from videos/ (videos/), before the builder runs;
- build: MkDocs with Material, or Zensical (its classic variant), from mkdocs.yml;
- finish (finish.py): every built page gets the exit first after <body>, names for the
  theme's controls, deferred scripts, "Last reviewed" dates and a <meta> policy; then the
  site gets robots.txt, the form's shell, _headers, _redirects and the manifest;
- verify (verify.py): the build fails, naming the page, if any of that is missing.

`python -m sitebuild build` runs them all (__main__.py). MkDocs also runs them from
mkdocs_adapter/ (so `mkdocs build` and `mkdocs serve` give the finished site); nothing here
imports MkDocs, Zensical or the adapter (docs/architecture.md). Standard library, PyYAML,
Jinja2 and the content checks' Markdown readers only.
"""


class BuildError(Exception):
    """A step of the pipeline refuses the site; the message names the file or page and what to do."""
