"""The video catalogue in videos/: read and checked, for the Videos page (/videos/).

Comms staff keep one Markdown file per video in videos/ (videos/README.md says
how): settings between two --- lines at the top, the transcript below them.
videos/index.md holds the page's own title, description and introduction.
read_catalogue() reads them and checks them; page.py writes the page; the build
adds the page as videos.md, and each video's files (video, captions, still
picture) to /videos/ (sitebuild/prepare.py for any builder, mkdocs_adapter/ for MkDocs).

A video kept by a provider (YouTube, Vimeo) shows our own still picture and a
button: nothing is asked of the provider until the reader presses it (page.py).

A problem with an entry (no title, transcript or captions, a missing file, ...)
stops the build with a message that names the file and says how to fix it.
The catalogue is videos/ at the top of the repository, or the folder in $VIDEOS_DIR
(tests; sitebuild/settings.py reads it).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import BuildError

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


class CatalogueError(BuildError):
    """One file's problems; read_catalogue() reports every file's together."""


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
        raise BuildError(f"The videos folder {folder} is missing. It holds the Videos page (see videos/README.md).")
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
        raise BuildError("The video catalogue has problems, so the website was not built:\n  - "
                          + "\n  - ".join(lines))
    videos.sort(key=lambda v: (v.order, v.title.lower()))
    return meta, intro, videos
