"""Turn the video catalogue in videos/ into the Videos page (/videos/).

Comms staff keep one Markdown file per video in videos/ (videos/README.md says
how): settings between two --- lines at the top, the transcript below them.
videos/index.md holds the page's own title, description and introduction.
This hook reads them, checks them, and adds to the build:

- videos.md, a generated page (File.generated, MkDocs 1.6): the introduction,
  then for each video its title, summary, length, player and transcript;
- each video's files (video, captions, still picture), copied to /videos/.

No Jinja: staff text goes through Markdown only, like any other page.

Players:
- a video kept here plays in the browser's own <video> element, captions on by
  default (<track kind="captions" default>), preload="metadata" (a few KB);
- a video kept by a provider (YouTube, Vimeo) shows our own still picture and a
  button. Nothing is asked of the provider until the reader presses it; then
  javascripts/videos.js puts the provider's player (privacy-enhanced address)
  in its place. Without JavaScript the button is a plain link to the video on
  the provider's site. The button carries data-embed-src; the build's finishing step
  (sitebuild/finish.py, sitebuild/netlify.py) adds that address's origin to frame-src
  in the CSP of this page only.

A problem with an entry (no title, transcript or captions, a missing file, ...)
stops the build with a message that names the file and says how to fix it.
The catalogue is videos/ at the top of the repository, or the folder in $VIDEOS_DIR (tests).
"""
from __future__ import annotations

import difflib
import html
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.videos")

PAGE = "videos.md"  # built as /videos/
MEDIA = "videos"  # the files are copied to /videos/<name>
INDEX = "index.md"
NOT_ENTRIES = {INDEX, "README.md"}
MAX_VIDEO_MB = 20

VIDEO_TYPES = {".webm": "video/webm", ".mp4": "video/mp4"}
IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".webp"}


@dataclass(frozen=True)
class Provider:
    name: str
    id_pattern: str
    id_example: str
    embed: str  # the player, on the provider's privacy-enhanced address where it has one
    watch: str  # the video's page on the provider's site (the link without JavaScript)
    what_happens: str
    # YouTube's player refuses to start without a Referer (error 153). strict-origin
    # sends our address without the page's path; other providers get nothing.
    referrer_policy: str = "no-referrer"


PROVIDERS = {
    "youtube": Provider(
        name="YouTube",
        id_pattern=r"[A-Za-z0-9_-]{11}",
        id_example="the 11 letters and numbers after watch?v= in the video's address",
        embed="https://www.youtube-nocookie.com/embed/{id}?cc_load_policy=1&rel=0",
        watch="https://www.youtube.com/watch?v={id}",
        what_happens=(
            "When you press it, the video loads from YouTube's privacy-enhanced service (youtube-nocookie.com). "
            "YouTube can then see your internet address, that you came from our website and that you watched "
            "this video."
        ),
        referrer_policy="strict-origin",
    ),
    "vimeo": Provider(
        name="Vimeo",
        id_pattern=r"[0-9]{6,12}",
        id_example="the number at the end of the video's address on vimeo.com",
        embed="https://player.vimeo.com/video/{id}?dnt=1&texttrack=en",
        watch="https://vimeo.com/{id}",
        what_happens=(
            "When you press it, the video loads from Vimeo (player.vimeo.com). We ask Vimeo not to track you. "
            "But Vimeo can still see your internet address and that you watched this video."
        ),
    ),
}

KNOWN_SETTINGS = {"title", "summary", "duration", "video", "provider", "id", "captions", "poster", "order"}

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_DURATION = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")


class CatalogueError(Exception):
    pass


@dataclass
class Video:
    source: str  # the file's name as staff see it, e.g. videos/how-restorative-justice-works.md
    slug: str
    title: str
    summary: str
    seconds: int
    transcript: str
    captions: Path
    video: Path | None = None
    provider: Provider | None = None
    provider_id: str = ""
    poster: Path | None = None
    order: float = 1000.0
    files: list[Path] = field(default_factory=list)


# ---------------------------------------------------------------- Reading the catalogue

def catalogue_dir(config) -> Path:
    configured = os.environ.get("VIDEOS_DIR")
    if configured:
        return Path(configured).resolve()
    # videos/ at the top of the repository, next to hooks/ (and mkdocs.yml); found from
    # this file, so a copy of mkdocs.yml elsewhere (as some tests make) still finds it.
    return Path(__file__).resolve().parent.parent / "videos"


def read_markdown(path: Path, shown: str) -> tuple[dict, str]:
    """Front matter and body of one file; a CatalogueError says what is wrong in plain words."""
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise CatalogueError(
            f"{shown}: the settings at the top are missing. The file must start with a line of three dashes (---), "
            "then settings like 'title: ...', then another line of three dashes. See videos/README.md.")
    try:
        meta = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" on line {mark.line + 2}" if mark else ""
        raise CatalogueError(
            f"{shown}: the settings at the top cannot be read{where}. Each setting is one line like "
            "'title: How restorative justice works'. Put quotes around a value that has a colon (:) in it.")
    if not isinstance(meta, dict):
        raise CatalogueError(f"{shown}: the settings at the top should be lines like 'title: ...', one a line.")
    return meta, text[match.end():].strip()


def _text(meta: dict, key: str) -> str:
    value = meta.get(key)
    return "" if value is None else str(value).strip()


def _duration(value) -> int | None:
    # YAML reads 1:30 (no quotes) as 90, a number of seconds; "1:30" stays text.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    match = _DURATION.match(str(value or "").strip())
    if not match:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    if seconds >= 60:
        return None
    total = hours * 3600 + minutes * 60 + seconds
    return total or None


def _file(meta: dict, key: str, folder: Path, shown: str, kinds: set[str], problems: list[str]) -> Path | None:
    name = _text(meta, key)
    if not name:
        return None
    if re.match(r"^[a-z]+:", name) or name.startswith("//"):
        problems.append(
            f"{shown}: {key}: '{name}' is a web address. We never load files from other websites. Put the file in "
            "the videos folder and write just its name, like 'my-video.webm'. For a video on YouTube or Vimeo, "
            "use 'provider:' and 'id:' instead (see videos/README.md).")
        return None
    path = (folder / name).resolve()
    if folder not in path.parents or "/" in name.strip("/") or "\\" in name:
        problems.append(f"{shown}: {key}: write just the file's name, like 'my-video.webm', and keep the file "
                        "in the videos folder itself.")
        return None
    if path.suffix.lower() not in kinds:
        problems.append(f"{shown}: {key}: '{name}' should be a {' or '.join(sorted(kinds))} file.")
        return None
    if not path.is_file():
        nearby = difflib.get_close_matches(name, [p.name for p in folder.iterdir() if p.is_file()], n=1)
        hint = f" Did you mean '{nearby[0]}'?" if nearby else ""
        problems.append(f"{shown}: {key}: the file '{name}' is not in the videos folder.{hint} Check the spelling "
                        "(capital letters matter), or add the file to the videos folder.")
        return None
    return path


def _check_captions(path: Path, shown: str, problems: list[str]) -> None:
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if not text.startswith("WEBVTT"):
        problems.append(f"{shown}: captions: '{path.name}' is not a WebVTT captions file: its first line must be "
                        "WEBVTT. Most captioning tools can save captions as WebVTT (.vtt).")
    elif "-->" not in text:
        problems.append(f"{shown}: captions: '{path.name}' has no captions in it (no lines with times like "
                        "00:00:01.000 --> 00:00:04.000).")


def read_video(path: Path, folder: Path) -> Video:
    shown = f"videos/{path.name}"
    meta, body = read_markdown(path, shown)
    problems: list[str] = []

    for key in sorted(set(meta) - KNOWN_SETTINGS):
        close = difflib.get_close_matches(str(key), sorted(KNOWN_SETTINGS), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else f" The settings are: {', '.join(sorted(KNOWN_SETTINGS))}."
        problems.append(f"{shown}: '{key}' is not a setting we know.{hint}")

    title, summary = _text(meta, "title"), _text(meta, "summary")
    if not title:
        problems.append(f"{shown}: the video has no title. Add a line like 'title: How restorative justice works' "
                        "between the two --- lines at the top.")
    if not summary:
        problems.append(f"{shown}: the video has no summary. Add a line like 'summary: One or two short sentences "
                        "about what the video shows.' between the two --- lines at the top.")
    seconds = _duration(meta.get("duration"))
    if seconds is None:
        problems.append(f"{shown}: the video's length is missing or not written as minutes:seconds. Add a line like "
                        "'duration: \"1:30\"' (with the quotes) for one minute and thirty seconds.")
    if not body:
        problems.append(f"{shown}: the video has no transcript. Under the second --- line, write everything that "
                        "is said in the video, and describe anything important that is only shown on screen.")

    captions = None
    if not _text(meta, "captions"):
        problems.append(f"{shown}: the video has no captions file. Add a line like 'captions: my-video.en.vtt' and "
                        "put that WebVTT captions file in the videos folder.")
    else:
        captions = _file(meta, "captions", folder, shown, {".vtt"}, problems)
        if captions:
            _check_captions(captions, shown, problems)

    video = provider = None
    provider_id = ""
    has_video, has_provider = bool(_text(meta, "video")), bool(_text(meta, "provider") or "id" in meta)
    if has_video and has_provider:
        problems.append(f"{shown}: use either 'video:' (a video file in the videos folder) or 'provider:' and "
                        "'id:' (a video on YouTube or Vimeo), not both.")
    elif has_video:
        video = _file(meta, "video", folder, shown, set(VIDEO_TYPES), problems)
        if video and video.stat().st_size > MAX_VIDEO_MB * 1024 * 1024:
            problems.append(f"{shown}: video: '{video.name}' is {video.stat().st_size / 1048576:.0f} MB, too big to "
                            f"keep with the website (the limit is {MAX_VIDEO_MB} MB). Make a smaller copy, or put "
                            "the video on YouTube or Vimeo and use 'provider:' and 'id:'.")
    elif has_provider:
        key = _text(meta, "provider").lower()
        provider = PROVIDERS.get(key)
        if provider is None:
            problems.append(f"{shown}: provider: '{_text(meta, 'provider')}' is not one we know. "
                            f"Use one of: {', '.join(sorted(PROVIDERS))}.")
        else:
            raw = meta.get("id")
            provider_id = "" if raw is None or isinstance(raw, bool) else str(raw).strip()
            if not re.fullmatch(provider.id_pattern, provider_id):
                problems.append(f"{shown}: id: '{provider_id}' does not look like a {provider.name} video id. "
                                f"Write {provider.id_example}, in quotes, like id: \"...\".")
        if not _text(meta, "poster"):
            problems.append(f"{shown}: a video on {provider.name if provider else 'another website'} needs a still "
                            "picture kept here, shown until the reader presses play. Add a line like "
                            "'poster: my-video.png' and put that picture in the videos folder.")
    else:
        problems.append(f"{shown}: the video itself is missing. Add 'video: my-video.webm' for a video file in the "
                        "videos folder, or 'provider: youtube' and 'id: \"...\"' for a video on YouTube.")
    poster = _file(meta, "poster", folder, shown, IMAGE_TYPES, problems)

    order = meta.get("order", 1000)
    if isinstance(order, bool) or not isinstance(order, (int, float)):
        problems.append(f"{shown}: order: write a number, like 'order: 2'. Videos are shown from the lowest number.")
        order = 1000

    if problems:
        raise CatalogueError("\n".join(problems))
    return Video(
        source=shown, slug=re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "video",
        title=title, summary=summary, seconds=seconds, transcript=body, captions=captions, video=video,
        provider=provider, provider_id=provider_id, poster=poster, order=float(order),
        # A provider's video shows its own captions; ours are then only the check that they exist.
        files=[p for p in (video, captions if video else None, poster) if p],
    )


def read_catalogue(folder: Path) -> tuple[dict, str, list[Video]]:
    if not folder.is_dir():
        raise PluginError(f"The videos folder {folder} is missing. It holds the Videos page (see videos/README.md).")
    index = folder / INDEX
    problems: list[str] = []
    meta, intro = {}, ""
    if not index.is_file():
        problems.append(f"videos/{INDEX} is missing. It holds the Videos page's title, description and introduction "
                        "(see videos/README.md).")
    else:
        try:
            meta, intro = read_markdown(index, f"videos/{INDEX}")
        except CatalogueError as error:
            problems.append(str(error))
    videos = []
    for path in sorted(folder.glob("*.md")):
        if path.name in NOT_ENTRIES or path.name.startswith(("_", ".")):
            continue
        try:
            videos.append(read_video(path, folder))
        except CatalogueError as error:
            problems.append(str(error))
        except UnicodeDecodeError:
            problems.append(f"videos/{path.name}: the file is not plain text (UTF-8). Save it as plain text.")
    if problems:
        lines = [line for problem in problems for line in problem.splitlines()]
        raise PluginError("The video catalogue has problems, so the website was not built:\n  - "
                          + "\n  - ".join(lines))
    videos.sort(key=lambda v: (v.order, v.title.lower()))
    return meta, intro, videos


# ---------------------------------------------------------------- Writing the page

def spoken_length(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "hour"), (minutes, "minute"), (secs, "second")]
    return " ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in parts if n)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def player_html(video: Video) -> str:
    title = _attr(video.title)
    if video.video is not None:
        poster = f' poster="{_attr(video.poster.name)}"' if video.poster else ""
        kind = VIDEO_TYPES[video.video.suffix.lower()]
        return (
            f'<div class="video-player">\n'
            f'<video controls preload="metadata" aria-labelledby="{video.slug}"{poster}>\n'
            f'<source src="{_attr(video.video.name)}" type="{kind}">\n'
            f'<track kind="captions" src="{_attr(video.captions.name)}" srclang="en" label="English" default>\n'
            f'<p>Your browser cannot play this video. The transcript below has every word of it.</p>\n'
            f'</video>\n'
            f'</div>\n'
        )
    provider = video.provider
    embed = provider.embed.format(id=video.provider_id)
    watch = provider.watch.format(id=video.provider_id)
    return (
        f'<div class="video-embed" data-video-embed>\n'
        f'<p class="video-embed__notice" id="{video.slug}-notice">This video is on {provider.name}. '
        f'Nothing is sent to {provider.name} until you press the button. {_attr(provider.what_happens)} '
        f'You can read the transcript below instead. If your browser does not run our scripts, the button '
        f'takes you to the video on the {provider.name} website.</p>\n'
        f'<a class="video-embed__start" href="{_attr(watch)}" rel="noreferrer" '
        f'data-embed-src="{_attr(embed)}" data-embed-title="{title} (video on {provider.name})" '
        f'data-embed-referrerpolicy="{provider.referrer_policy}" aria-describedby="{video.slug}-notice">'
        f'<img src="{_attr(video.poster.name)}" alt="">'
        f'<span class="video-embed__label">Play on {provider.name}: {title}</span></a>\n'
        f'</div>\n'
    )


def page_markdown(meta: dict, intro: str, videos: list[Video]) -> str:
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) if meta else ""
    parts = [f"---\n{front}---\n" if front else "", intro, ""]
    if len(videos) > 1:
        parts += [f"- [{v.title}](#{v.slug})" for v in videos] + [""]
    for video in videos:
        parts += [
            f"## {video.title} {{#{video.slug}}}",
            "",
            video.summary,
            "",
            f"Length: {spoken_length(video.seconds)}."
            + (" Captions are on. You can turn them off in the player." if video.video else ""),
            "",
            player_html(video),
            f"### Transcript of {video.title} {{#{video.slug}-transcript}}",
            "",
            video.transcript,
            "",
        ]
    return "\n".join(parts)


# ---------------------------------------------------------------- MkDocs events

def on_files(files: Files, config) -> Files:
    folder = catalogue_dir(config)
    meta, intro, videos = read_catalogue(folder)
    if files.get_file_from_path(PAGE) is not None:
        raise PluginError(f"{config.docs_dir}/{PAGE} would hide the Videos page made from the videos folder. "
                          "Remove it: the Videos page is written in videos/index.md.")
    page = File.generated(config, PAGE, content=page_markdown(meta, intro, videos))
    if not os.environ.get("VIDEOS_DIR"):
        # "Edit this page" opens videos/index.md (edit_uri points into docs_dir; urljoin resolves the ..).
        page.edit_uri = os.path.relpath(folder / INDEX, Path(config.docs_dir).resolve()).replace(os.sep, "/")
    files.append(page)
    for video in videos:
        for path in video.files:
            uri = f"{MEDIA}/{path.name}"
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, abs_src_path=str(path)))
    log.debug("Videos page: %d videos from %s", len(videos), folder)
    return files
