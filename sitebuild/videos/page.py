"""The Videos page, written from the catalogue as Markdown, like any other page.

No Jinja: staff text goes through Markdown only.

Players:
- a video kept here plays in the browser's own <video> element, captions on by
  default (<track kind="captions" default>), preload="metadata" (a few KB);
- a video kept by a provider (YouTube, Vimeo) shows our own still picture and a
  button. Nothing is asked of the provider until the reader presses it; then
  javascripts/videos.js puts the provider's player (privacy-enhanced address)
  in its place. Without JavaScript the button is a plain link to the video on
  the provider's site. The button carries data-embed-src; sitebuild/netlify.py
  adds that address's origin to frame-src in the CSP of this page only.
"""
from __future__ import annotations

import html

import yaml

from .catalogue import VIDEO_TYPES, Video


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
