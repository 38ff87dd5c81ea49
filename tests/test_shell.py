"""The form's pages are framed by the site's own built shell (formsvc/shell.py)."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from formsvc import create_app
from formsvc.shell import ShellInvalid, layout_template


@pytest.fixture
def site_app(built_site, tmp_path):
    return create_app({"TESTING": True, "SITE_DIR": str(built_site), "DATA_DIR": str(tmp_path)})


def parse(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def chrome(html: BeautifulSoup) -> dict:
    """The parts of a page that must look the same everywhere."""
    return {
        "site_name": html.select_one("header.md-header .md-header__topic").get_text(" ", strip=True),
        "stylesheets": [link["href"] for link in html.select("link[rel=stylesheet]") if "enquiry" not in link["href"]],
        "scripts": [s["src"] for s in html.select("script[src]") if "enquiry" not in s["src"]],
        # The site's navigation, without the current page's own table of contents.
        "nav": [a.get_text(strip=True) for a in html.select("nav.md-nav--primary a.md-nav__link")
                if not a.find_parent("nav", class_="md-nav--secondary")],
        "footer": html.select_one("nav.site-footer-links").get_text(" ", strip=True),
        "exit": html.select_one(".qe-button").get_text(" ", strip=True),
    }


def test_the_form_page_has_the_same_header_exit_nav_and_footer_as_a_content_page(site_app, built_site):
    form = parse(site_app.test_client().get("/enquiry/"))
    content = BeautifulSoup((built_site / "email-us" / "index.html").read_text(encoding="utf-8"), "html.parser")
    form_chrome, content_chrome = chrome(form), chrome(content)
    # Content pages link assets relatively; the form page from the site root.
    content_chrome["stylesheets"] = ["/" + h.lstrip("./") for h in content_chrome["stylesheets"]]
    content_chrome["scripts"] = ["/" + h.lstrip("./") for h in content_chrome["scripts"]]
    assert form_chrome == content_chrome
    assert len(form.find_all("h1")) == 1


def test_the_form_page_exit_links_go_through_the_service_and_come_first(site_app, neutral_site):
    client = site_app.test_client()
    form = parse(client.get("/enquiry/"))
    assert [a["href"] for a in form.select("[data-qe-link]")] == ["/enquiry/exit", "/enquiry/exit"]
    assert form.body.select_one("a[href], button, input:not([type=hidden]), select, textarea") is form.select_one(".qe-skip")
    # The destination is still the one set in mkdocs.yml.
    response = client.get("/enquiry/exit")
    assert response.status_code == 303
    assert response.headers["Location"] == neutral_site.url


def test_the_service_csp_covers_the_shells_inline_scripts(site_app, built_site):
    from sitebuild import page_facts

    page = site_app.test_client().get("/enquiry/")
    needed = page_facts.read(page.get_data(as_text=True)).script_hashes
    assert needed
    policy = page.headers["Content-Security-Policy"]
    assert all(h in policy for h in needed)
    assert "'unsafe-inline'" not in policy


def test_without_a_built_site_the_form_still_works(tmp_path):
    app = create_app({"TESTING": True, "SITE_DIR": str(tmp_path / "nothing"), "DATA_DIR": str(tmp_path)})
    page = parse(app.test_client().get("/enquiry/"))
    assert page.find("form") is not None
    assert page.select_one("a[href='/enquiry/exit']") is not None


def test_the_service_reads_the_sites_manifest_not_its_html(site_app, built_site, tmp_path):
    import json
    import shutil

    from contract.manifest import MANIFEST_FILE

    manifest = json.loads((built_site / MANIFEST_FILE).read_text())
    assert site_app.config["EXIT_URL"] == manifest["exit_url"]
    assert site_app.config["SHELL_SCRIPT_HASHES"] == manifest["shell"]["script_hashes"]
    # The manifest decides: with it gone, the form falls back to its plain layout.
    copy = tmp_path / "site"
    shutil.copytree(built_site, copy)
    (copy / MANIFEST_FILE).unlink()
    app = create_app({"TESTING": True, "SITE_DIR": str(copy), "DATA_DIR": str(tmp_path / "data")})
    assert parse(app.test_client().get("/enquiry/")).select_one("header.md-header") is None
    # Settings the service shows are passed through from mkdocs.yml extra, when set.
    manifest["extra"] = {"reply_within": "5 working days"}
    (copy / MANIFEST_FILE).write_text(json.dumps(manifest))
    app = create_app({"TESTING": True, "SITE_DIR": str(copy), "DATA_DIR": str(tmp_path / "data")})
    assert app.config["SITE_EXTRA"] == {"reply_within": "5 working days"}


def test_the_form_pages_may_be_found_though_the_frame_file_may_not(site_app, built_site):
    assert 'name="robots" content="noindex"' in (built_site / "formsvc-shell.html").read_text()
    assert parse(site_app.test_client().get("/enquiry/")).find("meta", attrs={"name": "robots"}) is None


def test_jinja_like_text_in_the_site_stays_literal():
    shell = ('<html><title><!--formsvc:title--></title><!--formsvc:head--><body>'
             '<a class="qe-button" href="https://neutral.example/">Exit</a><p>{{ not a variable }} {% raw %}</p>'
             '<!--formsvc:content--></body></html>')
    source = layout_template(shell, "https://neutral.example/")
    from jinja2 import Environment

    rendered = Environment().from_string(source).render(url_for=lambda endpoint: "/enquiry/exit")
    assert "{{ not a variable }} {% raw %}" in rendered
    assert 'href="/enquiry/exit"' in rendered


def test_a_shell_without_its_markers_is_refused():
    with pytest.raises(ShellInvalid):
        layout_template("<html><body>no markers</body></html>", "https://neutral.example/")


def test_a_shell_without_the_exit_is_refused():
    shell = "<title><!--formsvc:title--></title><!--formsvc:head--><body><!--formsvc:content--></body>"
    with pytest.raises(ShellInvalid, match="no exit link"):
        layout_template(shell, "https://neutral.example/")
