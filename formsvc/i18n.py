"""The form in each language: its words from gettext catalogues, its language from the address.

The form is in English at /enquiry/ and in each other language at /<code>/enquiry/ (Welsh:
/cy/enquiry/), as the site is at / and /cy/. A language is a catalogue, not code: every
folder ``<code>/LC_MESSAGES/messages.mo`` in TRANSLATIONS_DIR (formsvc/translations/, whose
``.po`` files ``make setup`` compiles) puts the form at /<code>/enquiry/, in the frame of the
site's own /<code>/ pages when the site has that language (formsvc/shell.py).

The language comes from the address alone: never from a cookie (the form has one cookie, and
it says nothing about the person) nor from the browser's Accept-Language, so a link to the
English form always opens the English form.

How: ``LanguagePrefix`` moves "/cy" from the path to the script root before Flask sees the
request, so every view, url_for() and redirect works unchanged and keeps the reader in their
language (url_for("enquiry.sent") is /cy/enquiry/sent there). The English words are the
catalogues' msgids; the hub's email is always in English (``english``).
"""
from __future__ import annotations

import logging
from pathlib import Path

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, force_locale, get_locale

log = logging.getLogger(__name__)

#: The language of the msgids: the form's words as written in the code and templates.
DEFAULT_LANGUAGE = "en"
#: Where LanguagePrefix leaves the language of a request (the WSGI environ).
ENVIRON_KEY = "formsvc.language"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
FORM_PATH = "/enquiry"


def translations_dir(cfg) -> Path:
    return Path(cfg.get("TRANSLATIONS_DIR") or TRANSLATIONS)


def catalogue_languages(directory: Path) -> list[str]:
    """The languages with a compiled catalogue in ``directory``, sorted; a catalogue not yet
    compiled (a .po without its .mo) is named in a warning: run `make setup`."""
    codes = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        code = po.parent.parent.name
        if not po.with_suffix(".mo").is_file():
            log.warning("The form's %s words (%s) are not compiled: run `make setup` (pybabel compile). "
                        "The form is not offered in %s until they are.", code, po, code)
            continue
        try:
            Locale.parse(code)
        except (ValueError, UnknownLocaleError):
            log.warning("%s: %r is not a language code Babel knows (like cy); left out.", po, code)
            continue
        codes.append(code)
    for mo in directory.glob("*/LC_MESSAGES/messages.mo"):
        if not mo.with_suffix(".po").is_file():
            log.warning("%s has no messages.po beside it; left out.", mo)
            codes = [code for code in codes if code != mo.parent.parent.name]
    return [code for code in codes if code != DEFAULT_LANGUAGE]


class LanguagePrefix:
    """/<code>/enquiry/... as /enquiry/... with the script root /<code> and the language noted,
    for each language the form has; every other path as it came."""

    def __init__(self, app, codes):
        self.app = app
        self.prefixes = {f"/{code}": code for code in codes}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        first, _, rest = path[1:].partition("/")
        code = self.prefixes.get("/" + first)
        if code and ("/" + rest == FORM_PATH or ("/" + rest).startswith(FORM_PATH + "/")):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + "/" + first
            environ["PATH_INFO"] = "/" + rest
            environ[ENVIRON_KEY] = code
        return self.app(environ, start_response)


def language() -> str:
    """The language of this request's form: from its address, the default outside a request."""
    if has_request_context():
        return request.environ.get(ENVIRON_KEY, DEFAULT_LANGUAGE)
    return DEFAULT_LANGUAGE


def form_paths(app: Flask) -> list[str]:
    """The form's address in every language: where its cookie lives."""
    return [FORM_PATH + "/"] + [f"/{code}{FORM_PATH}/" for code in app.extensions["form_languages"]]


def english(text) -> str:
    """A word marked for translation (questions.py), in English whatever the page's language:
    the hub reads every enquiry in English. Already in English (an English page, or inside
    ``in_english``): no switch, since each costs Flask-Babel a fresh look-up of its words."""
    locale = get_locale()
    if locale is not None and str(locale) == DEFAULT_LANGUAGE:
        return str(text)
    with in_english():
        return str(text)


def in_english():
    """Everything inside in English: for writing the hub's whole message in one switch of language
    (message.py), not one per question (a dozen a message, issue 20's profile)."""
    return force_locale(DEFAULT_LANGUAGE)


def language_names(code: str | None) -> str:
    """How the hub's email names a language: "English", "Welsh (Cymraeg)"."""
    code = code or DEFAULT_LANGUAGE
    try:
        locale = Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return code
    english_name, own_name = locale.english_name, locale.get_display_name(code)
    if not own_name or own_name.lower() == english_name.lower():
        return english_name
    return f"{english_name} ({own_name[:1].upper() + own_name[1:]})"


def site_root() -> str:
    """The site's home in the page's language, for links to its pages: "/" or "/cy/"."""
    return (request.script_root if has_request_context() else "") + "/"


def init_app(app: Flask) -> None:
    directory = translations_dir(app.config)
    codes = catalogue_languages(directory)
    app.extensions["form_languages"] = codes
    Babel(app, locale_selector=language, default_locale=DEFAULT_LANGUAGE,
          default_translation_directories=str(directory))
    # Innermost: the middleware around the app (the body limit, the Host guard, Netlify's
    # signature) sees the address as it came.
    app.wsgi_app = LanguagePrefix(app.wsgi_app, codes)

    @app.context_processor
    def language_words() -> dict:
        code = language()
        return {"lang": code, "site_root": site_root(),
                "layout": current_app.extensions.get("layouts", {}).get(code, "plain_layout.html")}
