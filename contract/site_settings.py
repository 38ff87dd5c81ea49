"""The site's settings that readers see: one table, read by everything that needs them.

A setting is given under ``extra:`` in mkdocs.yml (or by its environment variable, which wins);
unset, it has the default below. Read from this table, and from nowhere else:
- the pipeline (sitebuild/settings.py) gives each page template the values, and the HTML a page's
  marker line (``<!-- extra.reply_within -->``) becomes (overrides/partials/site-settings.html);
- the content checks warn while a placeholder is unchanged (sitebuild/content_checks/placeholders.py);
- the manifest passes on the ones the form shows (contract/manifest.py; formsvc/shell.py);
- the service falls back on exit_url's default when no site is built (formsvc/config.py);
- EDITING.md's table is ``python -m contract.site_settings`` (tests/test_site_settings.py checks).

The words around a value ("We aim to reply within", "Call {name} on {phone}", a box's title) are
not here but in each language's words, components/site-words/messages.json ("setting_..." and
"phone_..."): the table says only how the HTML is built. A language other than English shows the
force's own value for it (its entry in extra.languages), else its words' "default_<name>" while the
setting is at its default (sitebuild/languages.py).
"""
from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple


class SiteSetting(NamedTuple):
    default: Any  # text; a fact may be a mapping (one phone line) or a list of them
    meaning: str  # for comms staff: EDITING.md's table is made from it
    example: str  # a real value, for the checks' advice and the docs
    shown: str  # where readers see it
    # The default only reads well: the content checks warn until someone sets a real value.
    placeholder: bool = False
    env: str | None = None  # an environment variable that wins over mkdocs.yml (deploys, tests)
    # What a page's marker line becomes: a function of the value and a Words (the language's words
    # around it, the value escaped and marked with its language); None: not shown on pages by a marker.
    on_pages: Callable[[Any, "Words"], str] | None = None
    form_shows: bool = False  # passed to the enquiry service in site-manifest.json "extra"
    # Only warned about while the site has pages in more than one language (extra.languages).
    translations: bool = False
    # What the marker becomes while the setting is empty (None: nothing).
    when_empty: Callable[["Words"], str] | None = None
    # Its value is words (not a web address): shown in another language only once given in it.
    in_words: bool = True


def _e(value) -> str:
    return html.escape(str(value or ""), quote=True)


class Words:
    """What a marker's HTML is made with in one language: ``text(key, **slots)``, our words (escaped)
    with the slots' HTML put in; ``value(text)``, a value of the setting escaped, inside
    <span lang="en"> when it is English on another language's page (value_lang)."""

    def __init__(self, words: Mapping, value_lang: str | None = None):
        self.words, self.value_lang = words, value_lang

    def text(self, key: str, **slots: str) -> str:
        return html.escape(str(self.words[key]), quote=False).format(**slots)

    def value(self, text) -> str:
        shown = _e(text)
        return f'<span lang="{self.value_lang}">{shown}</span>' if self.value_lang and shown else shown


def _dial(scheme: str, number) -> str:
    """A number as readers dial it, linked for phones (the link without spaces)."""
    return f'<a href="{scheme}:{_e(str(number).replace(" ", ""))}">{_e(number)}</a>'


def phone_line(line: dict, w: Words) -> str:
    """ "Call <name> on <number>, or text <number>. <when>" then <about> and <website>: the number
    written as readers dial it, its link without spaces; the words around them the language's."""
    out = "<p><strong>" + w.text("phone_call", name=w.value(line.get("name")), phone=_dial("tel", line.get("phone", "")))
    if line.get("text"):
        out += w.text("phone_or_text", text=_dial("sms", line["text"]))
    out += ".</strong>"
    if line.get("when"):
        out += f" {w.value(line['when'])}"
    out += "</p>"
    if line.get("about"):
        out += f"<p>{w.value(line['about'])}</p>"
    if line.get("web"):
        shown = str(line["web"]).replace("https://", "").replace("www.", "").replace("/", "")
        out += f'<p>{w.text("phone_website")} <a href="{_e(line["web"])}">{_e(shown)}</a></p>'
    return out


def _paragraph(value, w: Words) -> str:
    return f'<p class="site-setting">{w.value(value)}</p>'


def _sentence(key: str) -> Callable[[Any, Words], str]:
    """A sentence of our words (messages.json ``key``) with the value in bold where it says {value}."""
    return lambda value, w: f'<p class="site-setting">{w.text(key, value="<strong>" + w.value(value) + "</strong>")}</p>'


def _complaints_link(value, w: Words) -> str:
    return f'<p class="site-setting"><a href="{_e(value)}">{w.text("setting_complaints_url")}</a></p>'


def _complaints_ask(w: Words) -> str:
    link = f'<a href="/enquiry/">{w.text("setting_complaints_url_form")}</a>'
    return f'<p class="site-setting">{w.text("setting_complaints_url_empty", form=link)}</p>'


def _emergency(value, w: Words) -> str:
    return (f'<div class="admonition warning">\n<p class="admonition-title">{w.text("setting_emergency_title")}</p>\n'
            f"<p>{w.value(value)}</p>\n</div>")


def _victim_support(value, w: Words) -> str:
    line = {key: value.get(key) for key in ("name", "phone", "when", "web")}
    return f'<div class="site-support"><p>{w.value(value.get("about"))}</p>{phone_line(line, w)}</div>'


def _lines(value, w: Words) -> str:
    return '<ul class="site-lines">' + "".join(f"<li>{phone_line(line, w)}</li>" for line in value) + "</ul>"


def _force_words(meaning: str, default: str, example: str, shown: str, form_shows: bool = False) -> SiteSetting:
    """What only our police force can promise or say, one paragraph: a placeholder that promises
    nothing until the force sets the words it has confirmed (the content checks warn)."""
    return SiteSetting(default, meaning, example, shown, placeholder=True,
                       on_pages=_paragraph, form_shows=form_shows)


SITE_SETTINGS: dict[str, SiteSetting] = {
    "exit_url": SiteSetting(
        "https://www.bbc.co.uk/weather",
        "Where \"Exit this page\" goes: a neutral website that does not know who the reader is, starting "
        "with https://. Ask a developer before changing it",
        "https://www.bbc.co.uk/weather",
        "Every page, and the enquiry form",
        env="EXIT_URL",
        in_words=False),
    "exit_name": SiteSetting(
        "BBC Weather",
        "That website's name, as the Leave this site quickly page says it. Change it whenever you change "
        "exit_url (EXIT_NAME goes with EXIT_URL)",
        "BBC Weather",
        "The Leave this site quickly page",
        env="EXIT_NAME",
        on_pages=_sentence("setting_exit_name")),
    "reply_within": SiteSetting(
        "a few working days",
        "How soon the hub replies, as the words after \"We aim to reply within\"",
        "5 working days",
        "The Email us page, and the form's \"Message sent\" page",
        placeholder=True,
        on_pages=_sentence("setting_reply_within"),
        form_shows=True),
    # Empty: a link to a page we guessed would not go where it says; until it is set, the page asks
    # readers to ask us.
    "complaints_url": SiteSetting(
        "",
        "The web address of our police force's page on how to make a complaint, starting with https://",
        "https://www.our-force.police.uk/complaints",
        "The How to complain page, as the link \"Make a complaint to our police force\" (until it is set: "
        "\"Ask us how to make a complaint\")",
        placeholder=True,
        on_pages=_complaints_link,
        form_shows=True,
        when_empty=_complaints_ask,
        in_words=False),
    # ---- What only our force can promise or say, once the hub's manager or our data protection
    # officer confirms it (issue 19).
    "contact_promise": _force_words(
        "What our force promises about how the hub contacts people, once the hub's manager confirms it",
        "Your answers about how to contact you safely are at the top of the message the hub gets.",
        "We will only contact you in the way you tell us is safe.",
        "Email us, What happens next, and the form's \"Message sent\" page", form_shows=True),
    "who_reads": _force_words(
        "Who reads the messages people send, once the hub's manager confirms it",
        "Your message goes to the victims and witness hub.",
        "Only trained staff in the victims and witness hub read your message.",
        "Email us, Privacy, and the form's \"Message sent\" page", form_shows=True),
    "offender_contact": _force_words(
        "When the hub contacts an offender, once the hub's manager confirms it",
        "Ask us if we would ever contact the offender, and what we would tell them.",
        "We will not contact the offender unless you agree.",
        "Email us, What happens next"),
    "lawful_basis": _force_words(
        "The law that lets our force use the information people send, as our data protection officer words it",
        "Ask us which law lets our police force use your information.",
        "Our police force uses your information to do its public task. Supporting victims of crime is part "
        "of that task.",
        "The Privacy notice"),
    "privacy_rights": _force_words(
        "People's rights over their information and how to complain, as our data protection officer words them",
        "Ask us what rights you have over your information, and how to complain about how we used it.",
        "You can ask to see the information we hold about you, and ask us to correct it. You can also "
        "complain to the Information Commissioner's Office.",
        "The Privacy notice"),
    "data_protection_officer": _force_words(
        "How to contact our force's data protection officer",
        "Ask us how to contact our police force's data protection officer.",
        "Email our data protection officer at dpo@our-force.police.uk.",
        "The Privacy notice"),
    "accessibility_tested": _force_words(
        "When and by whom the website was last tested for accessibility",
        "This website has not yet been tested by an accessibility expert.",
        "This website was last tested on 1 March 2027. The test was done by Example Audits Ltd.",
        "The Accessibility statement"),
    # ---- Facts written once: the pages show them by marker line, the form's pages through the
    # manifest. Check every change against ../shared/source/ (our sources of facts).
    "emergency": SiteSetting(
        "Call 999. If you cannot speak, call 999 and press 55 when you are asked. "
        "This is called the Silent Solution.",
        "What to do in an emergency, shown under the heading \"If you are in danger now\"",
        "Call 999.",
        "Most pages, the 404 page and the enquiry form",
        on_pages=_emergency, form_shows=True),
    "non_emergency": SiteSetting(
        "If you need the police but it is not an emergency, call 101.",
        "How to call the police when it is not an emergency",
        "If you need the police but it is not an emergency, call 101.",
        "Support, and the enquiry form",
        on_pages=_paragraph, form_shows=True),
    "victim_support": SiteSetting(
        {"about": "Victim Support is an independent charity. It gives free, confidential support to anyone "
                  "affected by crime in England and Wales, whether or not the crime was reported to the police.",
         "name": "the Victim Support Supportline",
         "phone": "08 08 16 89 111",
         "when": "It is free and open 24 hours a day.",
         "web": "https://www.victimsupport.org.uk/"},
        "Support while you decide: about, name, phone (as readers dial it), when and web",
        "phone: 08 08 16 89 111",
        "Support and other pages, and the enquiry form",
        on_pages=_victim_support, form_shows=True),
    "domestic_abuse_lines": SiteSetting(
        [{"name": "the National Domestic Abuse Helpline",
          "phone": "0808 2000 247",
          "about": "The charity Refuge runs it. It is free and open 24 hours a day. On its website you can "
                   "ask for a safe time for them to call you back.",
          "web": "https://www.nationaldahelpline.org.uk/"},
         {"name": "the Men's Advice Line",
          "phone": "0808 801 0327",
          "about": "It is for men experiencing domestic abuse."},
         {"name": "the Live Fear Free helpline in Wales",
          "phone": "0808 80 10 800",
          "text": "07860 077333",
          "about": "It is free, confidential and open 24 hours a day, 7 days a week. It is for anyone "
                   "experiencing domestic abuse or sexual violence, or worried about someone."}],
        "Helplines for anyone who lives with, or is afraid of, the person who harmed them: each has a "
        "name, phone and about, and may have text (a number to text) and web",
        "- name: the Men's Advice Line",
        "Support and other pages, and the enquiry form",
        on_pages=_lines, form_shows=True),
    "translations_checked_by": SiteSetting(
        "nobody yet",
        "Who checked the pages and the enquiry form's words (formsvc/translations/) in languages other than "
        "English, and when: a qualified translator (for Welsh, one the Welsh Language Standards accept), by name "
        "or company, with the date. A force must have its translations checked before they go live",
        "Welsh: Cwmni Cyfieithu Cyf, 2027-01-15",
        "Nowhere: a record for the site's owners",
        placeholder=True,
        translations=True),
}


def marker(name: str) -> str:
    """The line a page's Markdown has where the setting shows."""
    return f"<!-- extra.{name} -->"


def page_html(name: str, value, words: Mapping, value_lang: str | None = None) -> str:
    """What the marker of ``name`` becomes on a page: nothing when the setting is empty (or what
    its when_empty says). words: the page language's (sitebuild.languages.words, the one reader of
    components/site-words/messages.json); value_lang: the value's language when it is not the
    page's (an English value on a Welsh page: "en")."""
    setting = SITE_SETTINGS[name]
    w = Words(words, value_lang)
    if value in (None, "", [], {}):
        return setting.when_empty(w) if setting.when_empty else ""
    if not setting.on_pages:
        return ""
    return setting.on_pages(value, w)


#: One part of a fact that is a mapping (victim_support), inside a sentence of the page's own:
#: <!-- extra.victim_support.phone --> becomes the number, linked for phones. For pages that say
#: the words around it in their own way, as Easy Read pages do, in each language.
FIELDS = {"phone": lambda v: _dial("tel", v), "text": lambda v: _dial("sms", v), "when": _e,
          "web": lambda v: f'<a href="{_e(v)}">{_e(str(v).replace("https://", "").replace("www.", "").rstrip("/"))}</a>'}


def field_markers(values) -> list[dict]:
    """{"marker", "html"} for each part (FIELDS) of each mapping setting in values (the site's settings,
    as the pipeline fills them in), for overrides/partials/site-settings.html."""
    shown = []
    for name, setting in SITE_SETTINGS.items():
        value = values.get(name)
        if not setting.on_pages or not isinstance(value, dict):
            continue
        shown += [{"marker": marker(f"{name}.{part}"), "html": make(value[part])}
                  for part, make in FIELDS.items() if value.get(part)]
    return shown


def _shown_default(default) -> str:
    if isinstance(default, dict):
        return f"{default.get('name')}, {default.get('phone')}"
    if isinstance(default, list):
        return "; ".join(f"{line.get('name')}, {line.get('phone')}" for line in default)
    return default


def _in_other_languages(setting: SiteSetting) -> str:
    if not setting.in_words:
        return "The same address in every language"
    if not setting.on_pages:
        return "Not shown"
    return ("Once you set it, give its words in each language too, under `languages:` in that language's entry "
            "(Welsh: `code: cy`); until then that language's own placeholder")


def docs_table() -> str:
    """EDITING.md's table of these settings, in Markdown."""
    rows = ["| Setting | What it is | Until it is set | Where it shows | In Welsh and other languages |",
            "|---|---|---|---|---|"]
    for name, setting in SITE_SETTINGS.items():
        shown = _shown_default(setting.default)
        until = ("empty" if shown == "" else f"`{shown}`") + (", a placeholder: the checks warn"
                                                              if setting.placeholder else "")
        rows.append(f"| `{name}` | {setting.meaning} | {until} | {setting.shown} | {_in_other_languages(setting)} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(docs_table(), end="")
