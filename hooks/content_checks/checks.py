"""The checks, one function each: links, headings, front matter, words to avoid, reading age."""
from __future__ import annotations

import datetime as dt
import html
import logging
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .markdown import (
    ADMONITION,
    ATX_HEADING,
    HTML_HEADING,
    INLINE_CODE,
    LIST_ITEM,
    SETEXT_UNDERLINE,
    TABLE_ROW,
    THEMATIC_BREAK,
    Page,
)
from .style import STYLE_FILE, Style

log = logging.getLogger("mkdocs.hooks.content_checks")


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    level: str  # "error" stops the build; "warning" does not
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"


INLINE_LINK = re.compile(
    r"(?P<image>!?)\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]"
    r"\(\s*(?P<target><[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
REFERENCE_LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\[\]]*)\]\[(?P<ref>[^\[\]]*)\]")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[(?P<ref>[^\]]+)\]:\s*(?P<target><[^>]*>|\S+)")
AUTOLINK = re.compile(r"<(?P<target>(?:https?|ftp|mailto):[^>\s]+)>", re.IGNORECASE)
HTML_LINK = re.compile(r"<a\b[^>]*?\bhref\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')", re.IGNORECASE | re.DOTALL)
HTML_IMAGE = re.compile(r"<img\b[^>]*>", re.IGNORECASE | re.DOTALL)
HTML_ATTRIBUTE = re.compile(r"\b(?P<name>alt|src)\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+))",
                            re.IGNORECASE)
VAGUE_LINK_TEXT = {"click here", "here", "click", "this", "this page", "this link", "link", "read more", "more",
                   "find out more", "more information", "more info", "learn more", "go", "website", "this website"}
VAGUE_ALT_TEXT = {"image", "picture", "photo", "photograph", "graphic", "icon", "logo", "img", "screenshot",
                  "diagram", "chart"}
IMAGE_FILE = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|avif)$", re.IGNORECASE)


def _line_in(block_start: int, block: str, offset: int) -> int:
    return block_start + block.count("\n", 0, offset)


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", strip_inline(text)).strip()


def _links(page: Page):
    """Every link and image in the body: (line, kind, text, target). kind: link, image, html-link, html-image."""
    definitions: dict[str, tuple[int, str]] = {}
    for number, text in page.body():
        match = REFERENCE_DEFINITION.match(text)
        if match:
            definitions[match.group("ref").strip().lower()] = (number, match.group("target").strip("<>"))
    found = []
    for start, block in page.blocks():
        for match in INLINE_LINK.finditer(block):
            kind = "image" if match.group("image") else "link"
            found.append((_line_in(start, block, match.start()), kind, match.group("text"), match.group("target").strip("<>")))
        for match in REFERENCE_LINK.finditer(block):
            ref = (match.group("ref") or match.group("text")).strip().lower()
            kind = "image" if match.group("image") else "link"
            line = _line_in(start, block, match.start())
            if ref in definitions:
                found.append((line, kind, match.group("text"), definitions[ref][1]))
            else:
                found.append((line, "missing-ref", match.group("text"), ref))
        for match in AUTOLINK.finditer(block):
            found.append((_line_in(start, block, match.start()), "link", match.group("target"), match.group("target")))
        for match in HTML_LINK.finditer(block):
            target = match.group("dq") if match.group("dq") is not None else match.group("sq")
            found.append((_line_in(start, block, match.start()), "html-link", "", html.unescape(target)))
        for match in HTML_IMAGE.finditer(block):
            attributes = {}
            for attribute in HTML_ATTRIBUTE.finditer(match.group(0)):
                value = next(v for v in (attribute.group("dq"), attribute.group("sq"), attribute.group("bare"), "")
                             if v is not None)
                attributes[attribute.group("name").lower()] = html.unescape(value)
            found.append((_line_in(start, block, match.start()), "html-image", attributes.get("alt"),
                          attributes.get("src", "")))
    return found


@dataclass
class Site:
    """What the checks need to know about the whole site."""

    docs_dir: Path
    pages: dict[str, Page]  # by src_uri
    anchors: dict[str, set[str]]  # by src_uri
    other_files: set[str]  # src_uris of non-Markdown files (images, ...)
    style: Style
    today: dt.date
    docs_name: str = "site_content"  # the pages' folder, as editors know it


def check_links(page: Page, site: Site) -> list[Problem]:
    problems = []

    def error(line, message):
        problems.append(Problem(page.name, line, "error", message))

    def warning(line, message):
        problems.append(Problem(page.name, line, "warning", message))

    for line, kind, text, target in _links(page):
        is_image = kind in {"image", "html-image"}
        if kind == "missing-ref":
            error(line, f'The link "[{text}]" uses a link reference "[{target}]" that is not defined on this page. '
                        f"Write the link as [{text}](page-name.md) instead.")
            continue
        if is_image:
            alt = (text or "").strip() if text is not None else ""
            if not alt:
                error(line, f'The image "{target}" has no alt text (the description a screen reader reads out). '
                            "Describe what the image shows between the square brackets: ![A practitioner and a victim "
                            "talking at a table](picture.png).")
            elif alt.lower().strip(".") in VAGUE_ALT_TEXT or IMAGE_FILE.search(alt):
                warning(line, f'The alt text "{alt}" does not say what the image shows. '
                              "Describe the picture in a few words, as you would to someone on the phone.")
        else:
            label = _plain(text or "").lower().strip(" .:!")
            if kind == "link" and label in VAGUE_LINK_TEXT:
                error(line, f'The link text "{_plain(text)}" does not say where the link goes. Screen reader users '
                            "often hear links on their own. Use words that name the page, like "
                            "[read how restorative justice works](how-it-works.md).")
        problems.extend(_check_target(page, site, line, target, is_image))
    return problems


def _check_target(page: Page, site: Site, line: int, target: str, is_image: bool) -> list[Problem]:
    def error(message):
        return [Problem(page.name, line, "error", message)]

    what = "image" if is_image else "link"
    if not target:
        return error(f"This {what} has no address between the round brackets. Add the page's file name, "
                     "like (how-it-works.md), or a full web address starting with https://.")
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if scheme == "http":
        return error(f'The {what} "{target}" starts with http://, which is not secure. '
                     f'Change it to https://{target[len("http://"):]} and check it still opens the right page.')
    if scheme in {"https"} or target.startswith("//"):
        if is_image:
            return error(f'The image "{target}" is on another website. Loading it would tell that website who is '
                         f"reading our pages. Save the image in {site.docs_name}/images/ and link to it there.")
        return []
    if scheme in {"mailto", "tel"}:
        return []
    if scheme:
        return error(f'The {what} "{target}" is not a web address we can use. Use a full address starting with '
                     "https://, or a page's file name like how-it-works.md.")
    path = unquote(parts.path)
    anchor = unquote(parts.fragment)
    if path.startswith("/"):
        allowed = {p.rstrip("/") for p in site.style.site_paths}
        if path.rstrip("/") in allowed or any(path.startswith(p.rstrip("/") + "/") for p in allowed):
            return []
        return error(f'The {what} "{target}" starts with /, so it only works from one web address. Link to the '
                     "page's file instead, like (how-it-works.md). (Addresses served by another part of the "
                     f"website, like /enquiry/, are listed under site_paths in {STYLE_FILE}.)")
    if not path:
        if anchor and anchor not in site.anchors.get(page.src_uri, set()):
            return error(f'The link "#{anchor}" points to a heading that is not on this page. '
                         f"{_anchor_hint(site.anchors.get(page.src_uri, set()))}")
        return []
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page.src_uri), path))
    if resolved.startswith("../") or resolved == "..":
        return error(f'The {what} "{target}" points outside {site.docs_name}, so it will not be on the website. '
                     f"Link to a page or file inside {site.docs_name}.")
    if resolved in site.pages:
        if anchor and anchor not in site.anchors.get(resolved, set()):
            return error(f'The link "{target}" points to a heading "#{anchor}" that is not on {resolved}. '
                         f"{_anchor_hint(site.anchors.get(resolved, set()))}")
        return []
    if resolved in site.other_files:
        return []
    if (site.docs_dir / resolved).is_dir() or path.endswith("/"):
        candidate = resolved.rstrip("/") + ".md"
        hint = f" Use ({candidate})." if candidate in site.pages else ""
        return error(f'The {what} "{target}" points to a web address, not a file. Link to the page\'s Markdown file, '
                     f"ending in .md.{hint}")
    suggestion = _closest(resolved, site.pages.keys() if not is_image else site.other_files)
    hint = f' Did you mean "{suggestion}"?' if suggestion else " Check the spelling of the file name."
    return error(f'The {what} "{target}" goes to a file that does not exist in {site.docs_name}.{hint}')


def _anchor_hint(anchors: set[str]) -> str:
    if not anchors:
        return "That page has no headings to link to. Link to the page without the # part."
    return ("A heading's link name is its text in small letters with - for spaces, like #who-can-take-part. "
            "Check the heading's spelling, or link to the page without the # part.")


def _closest(name: str, candidates) -> str | None:
    import difflib

    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return matches[0] if matches else None


def check_headings(page: Page) -> list[Problem]:
    problems = []
    headings = page.headings()
    main = [h for h in headings if h[1] == 1]
    if not main:
        problems.append(Problem(page.name, page.body_start, "error",
                                "This page has no main heading. Add one line near the top starting with # and a space, "
                                "like: # How restorative justice works"))
    for extra in main[1:]:
        problems.append(Problem(page.name, extra[0], "error",
                                f"This page has more than one main heading (# ...); the first is on line {main[0][0]}. "
                                "A page has only one. Change this one to a section heading starting with ##."))
    level = 1
    for line, this_level, text in headings:
        if this_level > level + 1:
            hashes = "#" * (level + 1)
            problems.append(Problem(page.name, line, "error",
                                    f"This heading skips a level: it is level {this_level} ({'#' * this_level}) but the "
                                    f"heading before it is level {level} ({'#' * level}). Screen reader users move "
                                    f"around by heading levels. Use {hashes} here."))
        level = this_level
    return problems


def _as_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _add_months(day: dt.date, months: int) -> dt.date:
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def long_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def check_front_matter(page: Page, style: Style, today: dt.date) -> list[Problem]:
    problems = []

    def report(level, line, message):
        problems.append(Problem(page.name, line, level, message))

    example = (f"---\ntitle: Page title\ndescription: One sentence about the page.\n"
               f"reviewed: {today.isoformat()}\nowner: Victims and witness hub\n---")
    if page.front_matter_lines is None and page.meta_error is None:
        report("error", 1, "This page has no front matter (the settings at the very top). Add these lines at the top "
                           "of the file: " + example.replace("\n", " | "))
        return problems
    if page.meta_error:
        report("error", *page.meta_error)
        return problems

    description = page.meta.get("description")
    if not isinstance(description, str) or not description.strip():
        report("error", page.meta_line("description"),
               "The page has no description. Add a line 'description: ...' to the front matter with one sentence "
               "that says what the page is about. Search engines show it under the page's name.")
    elif len(description.strip()) > style.description_max_length:
        report("warning", page.meta_line("description"),
               f"The description is {len(description.strip())} characters long. Search engines cut it off after "
               f"about {style.description_max_length}. Make it shorter.")

    reviewed_line = page.meta_line("reviewed")
    if "reviewed" not in page.meta or page.meta.get("reviewed") in (None, ""):
        report("error", reviewed_line,
               "The page has no review date. When you have checked the page is right, add a line "
               f"'reviewed: {today.isoformat()}' (today's date, year-month-day) to the front matter.")
    else:
        reviewed = _as_date(page.meta["reviewed"])
        if reviewed is None:
            report("error", reviewed_line,
                   f"The review date \"{page.meta['reviewed']}\" is not a date we can read. Write it as "
                   f"year-month-day, like reviewed: {today.isoformat()}")
        elif reviewed > today:
            report("error", reviewed_line,
                   f"The review date {reviewed.isoformat()} is in the future. Write the date you last checked the "
                   f"page, like reviewed: {today.isoformat()}")
        else:
            error_from = _add_months(reviewed, style.review_error_after_months)
            warn_from = _add_months(reviewed, style.review_warn_after_months)
            if today >= error_from:
                report("error", reviewed_line,
                       f"This page was last reviewed on {long_date(reviewed)}, more than "
                       f"{style.review_error_after_months} months ago. Check with the page's owner that everything "
                       f"on it is still right, then change the date to reviewed: {today.isoformat()}")
            elif today >= warn_from:
                report("warning", reviewed_line,
                       f"This page is due for review: it was last reviewed on {long_date(reviewed)}. Check it is "
                       f"still right, then change the date to reviewed: {today.isoformat()}. From "
                       f"{long_date(error_from)} the website will not build until it is reviewed.")

    owner = page.meta.get("owner")
    if not isinstance(owner, str) or not owner.strip():
        report("warning", page.meta_line("owner"),
               "The page has no owner. Add a line 'owner: ...' to the front matter naming the team that keeps the "
               "page right, like owner: Victims and witness hub")
    return problems


# ---- Words to avoid


def _phrase_pattern(phrase: str) -> re.Pattern:
    """Whole words, any capitals, spaces or line breaks between words, and common endings
    (commence: commences, commenced, commencing; perpetrator: perpetrators)."""
    words = phrase.strip().split()
    last = words[-1]
    if last.lower().endswith("e") and len(last) > 3:
        ending = re.escape(last[:-1]) + r"(?:e|es|ed|ing)"
    else:
        ending = re.escape(last) + r"(?:s|es|ed|ing)?"
    parts = [re.escape(w) for w in words[:-1]] + [ending]
    return re.compile(r"(?<![\w-])" + r"\s+".join(parts) + r"(?![\w-])", re.IGNORECASE)


def visible_lines(page: Page):
    """(line, text a reader sees) for the title, description and every body line."""
    for key in ("title", "description"):
        if isinstance(page.meta.get(key), str):
            yield page.meta_line(key), page.meta[key]
    for number, text in page.body():
        if REFERENCE_DEFINITION.match(text):
            continue
        yield number, strip_inline(text)


def check_words(page: Page, style: Style) -> list[Problem]:
    problems = []
    lists = [("error", style.avoid_errors), ("warning", style.avoid_warnings)]
    patterns = [(level, phrase, use, _phrase_pattern(phrase)) for level, words in lists for phrase, use in words.items()]
    for number, text in visible_lines(page):
        for level, phrase, use, pattern in patterns:
            for match in pattern.finditer(text):
                problems.append(Problem(page.name, number, level,
                                        f'Avoid "{match.group(0)}". Use "{use}" instead '
                                        f"(from the avoid list in {STYLE_FILE})."))
    return problems


# ---- Reading age


def strip_inline(text: str) -> str:
    """Markdown and HTML inside a line, down to the words a reader sees."""
    text = INLINE_CODE.sub("", text)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)", r"\1", text)  # [text](url)
    text = re.sub(r"\[([^\[\]]*)\]\[[^\[\]]*\]", r"\1", text)  # [text][ref]
    text = re.sub(r"\[\^[^\]]*\]", "", text)  # footnote markers
    text = re.sub(r"<(?:https?|ftp|mailto):[^>\s]+>", "", text, flags=re.IGNORECASE)  # autolinks
    text = re.sub(r"\{\s*:?\s*[.#][^}]*\}", "", text)  # { .md-button } attribute lists
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags
    text = re.sub(r"\*{1,3}|(?<!\w)_{1,3}|_{1,3}(?!\w)", "", text)  # bold and italics
    return html.unescape(text)


SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")


@dataclass
class Sentence:
    line: int
    text: str


def sentences(page: Page) -> list[Sentence]:
    """The page's running text as sentences. Headings, tables, code and admonition titles are left
    out; each list item counts as a sentence of its own."""
    units: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []

    def close():
        nonlocal current
        if current:
            units.append(current)
        current = []

    heading_lines = {line for line, _, _ in page.headings()}
    for number, text in page.body():
        stripped = text.strip()
        if (not stripped or number in heading_lines or ATX_HEADING.match(text) or SETEXT_UNDERLINE.match(text) or TABLE_ROW.match(text)
                or ADMONITION.match(text) or THEMATIC_BREAK.match(text) or REFERENCE_DEFINITION.match(text)
                or HTML_HEADING.search(text)):
            close()
            continue
        item = LIST_ITEM.match(text)
        if item:
            close()
            text = text[item.end():]
        elif current and current[-1][0] != number - 1:
            close()
        current.append((number, text.strip().lstrip(">").strip()))
    close()

    found: list[Sentence] = []
    for unit in units:
        # Join the unit's lines, remembering where each line starts.
        joined, starts = "", []
        for number, text in unit:
            plain = _plain(text)
            if not plain:
                continue
            if joined:
                joined += " "
            starts.append((len(joined), number))
            joined += plain
        if not joined:
            continue
        if joined[-1] not in ".!?:;":
            joined += "."
        position = 0
        for piece in SENTENCE_END.split(joined):
            offset = joined.find(piece, position)
            position = offset + len(piece)
            line = max((n for start, n in starts if start <= offset), default=unit[0][0])
            piece = piece.strip()
            if piece:
                found.append(Sentence(line, piece))
    return found


def _textstat():
    import textstat

    textstat.set_lang("en_GB")
    return textstat


def reading_age(text: str) -> float:
    """UK reading age: the Flesch-Kincaid grade (from textstat) plus 5."""
    return _textstat().flesch_kincaid_grade(text) + 5


def long_words(text: str) -> list[str]:
    ts = _textstat()
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", text)
    seen = []
    for word in words:
        if ts.syllable_count(word) >= 3 and word.lower() not in seen:
            seen.append(word.lower())
    return seen


def check_reading_age(page: Page, style: Style) -> list[Problem]:
    # Labels of one or two words ("Forms", "the crime") are not sentences: left out.
    scored = [s for s in sentences(page) if len(s.text.split()) >= 3]
    if not scored:
        return []
    age = round(reading_age(" ".join(s.text for s in scored)))
    if age <= style.target_reading_age:
        return []
    level = "error" if age > style.reading_age_limit else "warning"
    main = next((line for line, lvl, _ in page.headings() if lvl == 1), page.body_start)
    target = f"{style.target_reading_age:g}"
    problems = [Problem(page.name, main, level,
                        f"This page needs a reading age of about {age}. Our target is {target} or under"
                        + (f", and above {style.reading_age_limit:g} the website will not build" if level == "error" else "")
                        + ". Make the sentences listed next shorter, or use everyday words.")]
    hard = sorted(((reading_age(s.text), s) for s in scored), key=lambda pair: -pair[0])
    for sentence_age, sentence in hard[: style.hard_sentences_to_show]:
        if round(sentence_age) <= style.target_reading_age:
            break
        quoted = sentence.text if len(sentence.text) <= 120 else sentence.text[:117].rstrip() + "..."
        words = long_words(sentence.text)
        hint = f" Long words: {', '.join(words[:5])}." if words else ""
        count = len(sentence.text.split())
        length = f" It has {count} words; aim for 15 or fewer." if count > 15 else ""
        problems.append(Problem(page.name, sentence.line, level,
                                f'Hard to read (reading age {round(sentence_age)}): "{quoted}"{length}{hint} '
                                "Split it up, or use shorter words."))
    return problems


# ---- Settings in mkdocs.yml that pages show (extra.reply_within, extra.complaints_url, ...)
# What only our police force can promise or say (how it replies, who reads, what it
# never does, the law it uses, how soon it replies) is a setting, never a page's own
# sentence. Each is shipped with a placeholder that promises nothing and reads well;
# the checks warn, naming mkdocs.yml and the line, until someone sets the real words.

# Each setting's placeholder, shipped so the site reads well before it is set, and what to set it to.
SETTING_PLACEHOLDERS = {
    "reply_within": ("a few working days",
                     "how soon the hub replies, as words that follow \"We aim to reply within\", "
                     "like: reply_within: 5 working days"),
    # Empty: a link to a page we guessed would not go where it says. Until it is set, the
    # How to complain page asks readers to ask us (overrides/partials/site-settings.html).
    "complaints_url": ("",
                       "the web address of our police force's page on how to make a complaint, "
                       "like: complaints_url: https://www.our-force.police.uk/complaints"),
    "contact_promise": ("Your answers about how to contact you safely are at the top of the message the hub gets.",
                        "what our force promises about how the hub contacts people, once the hub's manager "
                        "confirms it, like: contact_promise: We will only contact you in the way you tell us is safe."),
    "who_reads": ("Your message goes to the victims and witness hub.",
                  "who reads the messages people send, once the hub's manager confirms it, like: "
                  "who_reads: Only trained staff in the victims and witness hub read your message."),
    "offender_contact": ("Ask us if we would ever contact the offender, and what we would tell them.",
                         "when the hub contacts an offender, once the hub's manager confirms it, like: "
                         "offender_contact: We will not contact the offender unless you agree."),
    "lawful_basis": ("Ask us which law lets our police force use your information.",
                     "the law that lets our force use the information people send, as our data protection "
                     "officer words it, like: lawful_basis: Our police force uses your information to do its "
                     "public task. Supporting victims of crime is part of that task."),
    "privacy_rights": ("Ask us what rights you have over your information, and how to complain about how we used it.",
                       "people's rights over their information and how to complain, as our data protection officer "
                       "words them, like: privacy_rights: You can ask to see the information we hold about you, "
                       "and ask us to correct it. You can also complain to the Information Commissioner's Office."),
    "data_protection_officer": ("Ask us how to contact our police force's data protection officer.",
                                "how to contact our force's data protection officer, like: data_protection_officer: "
                                "Email our data protection officer at dpo@our-force.police.uk."),
    "accessibility_tested": ("This website has not yet been tested by an accessibility expert.",
                             "when and by whom the website was last tested for accessibility, like: "
                             "accessibility_tested: This website was last tested on 1 March 2027. "
                             "The test was done by Example Audits Ltd."),
}


def check_setting_placeholders(extra: dict | None, config_file: Path, name: str = "mkdocs.yml") -> list[Problem]:
    """A warning naming mkdocs.yml (file and line) for each shown setting still at its placeholder, or empty."""
    extra = extra or {}
    try:
        lines = config_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    problems = []
    for key, (placeholder, what) in SETTING_PLACEHOLDERS.items():
        if key not in extra:
            continue  # a site that does not use the setting
        value = str(extra.get(key) or "").strip()
        if value and value != placeholder:
            continue
        line = next((n for n, text in enumerate(lines, 1) if re.match(rf"\s*{key}\s*:", text)), 1)
        state = f'is still the placeholder "{placeholder}"' if value else "is empty"
        problems.append(Problem(name, line, "warning",
                                f"The setting extra.{key} in {Path(name).name} {state}. Set it to {what}"
                                + ("" if what.endswith(".") else ".")))
    return problems


# ---------------------------------------------------------------- Running the checks


def check_page(page: Page, site: Site) -> list[Problem]:
    return sorted(
        check_front_matter(page, site.style, site.today)
        + check_headings(page)
        + check_links(page, site)
        + check_words(page, site.style)
        + check_reading_age(page, site.style)
    )
