"""The site pipeline, the same for any builder: prepare -> build -> finish -> verify.

- prepare (prepare.py): the content checks (hooks/content_checks/) and the Videos page
  made from videos/ (hooks/videos.py), before the builder runs;
- build: MkDocs with Material, or Zensical (its classic variant), from mkdocs.yml;
- finish (finish.py): every built page gets the exit first after <body>, names for the
  theme's controls, deferred scripts, "Last reviewed" dates and a <meta> policy; then the
  site gets robots.txt, the form's shell, _headers, _redirects and the manifest;
- verify (verify.py): the build fails, naming the page, if any of that is missing.

MkDocs runs these through hooks/finish.py (so `mkdocs build` and `mkdocs serve` give the
finished site); `python -m sitebuild build --builder zensical` runs them around Zensical,
which ignores hooks. Standard library, PyYAML and Jinja2 only (both builders bring them).
"""
