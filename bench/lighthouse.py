"""Lighthouse on every page of the site and the enquiry form, served as in production.

    npm ci --prefix bench                  # once: Lighthouse from the npm registry
    .venv/bin/python bench/lighthouse.py   # or: make lighthouse

Builds the site (mkdocs build --strict) into a temporary folder, serves it and the
enquiry form on one origin on 127.0.0.1 with Netlify's headers and compression
(localrun.localsite), runs Lighthouse in its default mobile mode with Debian's
Chromium on every page found in the build plus /enquiry/, and prints a table of the
four category scores and each page's total transfer size (compressed, as sent).
Anything short of 100 is listed under the table with the audits that cost points.

This is a benchmark, not a test: it exits non-zero only when Lighthouse could not be
run or could not load a page, never because of a score. --site-dir uses a site you
have built already (its canonical links must then point at --port); --keep DIR keeps
the JSON reports.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from testsupport import ROOT
from testsupport.net import free_port

# The same page discovery as the accessibility tests.
from testsupport.site import build_site, site_pages

LIGHTHOUSE = ROOT / "bench" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
# Headless Debian Chromium that talks to nothing but the page under test.
CHROME_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic",
]
# The form is a page of the site to readers, though not a file in the build.
EXTRA_PAGES = ["/enquiry/"]


def build(dest: Path, site_url: str) -> None:
    result = build_site(dest, URL=site_url)
    if result.returncode:
        raise SystemExit(f"mkdocs build failed:\n{result.stdout}{result.stderr}")


def serve(site_dir: Path, data_dir: Path, port: int):
    """The site and the form on one origin in a background thread, production settings."""
    import logging

    from werkzeug.serving import make_server

    from formsvc import create_app
    from localrun.localsite import OneOrigin, StaticSite
    from testsupport.processes import hub_certificate

    # Production refuses to start without sealing; the pages are the same whatever the key.
    service = create_app({"SITE_DIR": str(site_dir), "DATA_DIR": str(data_dir),
                          "SECRET_KEY": secrets.token_hex(32), "HUB_ENCRYPTION": "smime",
                          "HUB_SMIME_CERTIFICATES": str(hub_certificate()[0])})
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request in the table's way
    server = make_server("127.0.0.1", port, OneOrigin(StaticSite(site_dir), service), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def lighthouse(url: str, report: Path, tmp: Path) -> dict:
    env = {**os.environ, "CHROME_PATH": shutil.which("chromium") or "/usr/bin/chromium", "TMPDIR": str(tmp)}
    command = [
        str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={' '.join(CHROME_FLAGS)}",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode or not report.exists():
        raise RuntimeError(f"Lighthouse failed on {url}:\n{result.stdout}{result.stderr}")
    data = json.loads(report.read_text(encoding="utf-8"))
    if data.get("runtimeError"):
        raise RuntimeError(f"Lighthouse could not load {url}: {data['runtimeError'].get('message')}")
    return data


def summarise(data: dict) -> dict:
    scores = {c: data["categories"][c]["score"] for c in CATEGORIES}
    if any(score is None for score in scores.values()):
        raise RuntimeError(f"Lighthouse gave no score for {data['finalDisplayedUrl']}: {scores}")
    lost = []
    for category in CATEGORIES:
        if scores[category] >= 0.995:  # shown as 100
            continue
        for ref in data["categories"][category]["auditRefs"]:
            audit = data["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                shown = audit.get("displayValue") or f"score {audit['score']:.2f}"
                lost.append(f"{category}: {ref['id']} ({shown})")
    return {
        "scores": {c: round(s * 100) for c, s in scores.items()},
        "kb": data["audits"]["total-byte-weight"]["numericValue"] / 1024,
        "lost": lost,
    }


def table(rows: list[tuple[str, dict]]) -> str:
    lines = ["| Page | Performance | Accessibility | Best practices | SEO | Transfer (KB) |",
             "|---|---:|---:|---:|---:|---:|"]
    for page, row in rows:
        s = row["scores"]
        lines.append(f"| `{page}` | {s['performance']} | {s['accessibility']} | {s['best-practices']} "
                     f"| {s['seo']} | {row['kb']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-dir", type=Path, help="a site built already (default: build one)")
    parser.add_argument("--port", type=int, help="port to serve on (default: any free one)")
    parser.add_argument("--keep", type=Path, help="keep the JSON reports in this folder")
    parser.add_argument("pages", nargs="*", help="only these paths (default: every page)")
    args = parser.parse_args(argv)

    if not LIGHTHOUSE.exists():
        print("Lighthouse is not installed: run `npm ci --prefix bench` first.", file=sys.stderr)
        return 2
    if not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()):
        print("Debian's chromium is not installed (apt-get install chromium).", file=sys.stderr)
        return 2

    port = args.port or free_port()
    origin = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp_name:
        tmp = Path(tmp_name)
        site_dir = args.site_dir
        if site_dir is None:
            site_dir = tmp / "site"
            print(f"Building the site for {origin}/ ...", file=sys.stderr)
            build(site_dir, origin + "/")
        pages = args.pages or sorted(site_pages(site_dir), key=lambda p: (p != "/", p)) + EXTRA_PAGES
        reports = args.keep or tmp / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        server = serve(site_dir, tmp / "data", port)
        rows = []
        try:
            for page in pages:
                print(f"Lighthouse {origin}{page} ...", file=sys.stderr)
                name = page.strip("/").replace("/", "-") or "home"
                rows.append((page, summarise(lighthouse(origin + page, reports / f"{name}.json", tmp))))
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            print(error, file=sys.stderr)
            return 1
        finally:
            server.shutdown()

    print(table(rows))
    lost = [(page, row["lost"]) for page, row in rows if row["lost"]]
    for page, audits in lost:
        print(f"\n{page} lost points on:\n  " + "\n  ".join(audits))
    home = next((row for page, row in rows if page == "/"), None)
    if home:
        print(f"\nHome page transfer: {home['kb']:.1f} KB compressed (goal: under 100 KB).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
