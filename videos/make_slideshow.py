#!/usr/bin/env python3
"""Make the "How restorative justice works" video: a narrated, captioned slideshow.

    python3 videos/make_slideshow.py        # needs: apt-get install espeak-ng ffmpeg fonts-dejavu-core

Everything it says comes from the site's own pages (site_content/how-it-works.md
and site_content/indirect-meetings.md). It writes, next to this script:

    how-restorative-justice-works.webm     the video (VP9 + Opus, about 0.5 MB)
    how-restorative-justice-works.en.vtt   the captions, one cue per spoken sentence
    how-restorative-justice-works.png      the still shown before the video plays
    how-restorative-justice-works.md       the catalogue entry, with the transcript

Nothing is downloaded: the voice is espeak-ng, the pictures are drawn by ffmpeg.
To change the words, edit SLIDES below and run the script again. Only the build
and the tests use the files it makes; neither needs espeak-ng or ffmpeg.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME = "how-restorative-justice-works"
TITLE = "How restorative justice works"

# (heading on the slide, short line on the slide, [caption or (caption, spoken), ...])
# "spoken" is only given where the voice needs different letters from the caption.
# Everything shown on a slide is also said, so the video needs no separate audio description.
SLIDES = [
    ("How restorative justice works", "You meet or talk with the person who harmed you", [
        "How restorative justice works.",
        "Restorative justice means you meet or talk with the person who harmed you.",
        "We call that person the offender.",
    ]),
    ("It is always your choice", "You can change your mind at any time", [
        "It is always your choice.",
        "You decide if you want to meet or talk with the offender.",
        "You can change your mind at any time.",
    ]),
    ("Any crime, any stage", "Even after the court has given a sentence", [
        "Any crime, any stage.",
        "It is open to victims of any type of crime.",
        "You can ask for it even after the court has given a sentence.",
    ]),
    ("We keep you safe", "A trained practitioner runs every meeting", [
        "We keep you safe.",
        "A trained practitioner runs every meeting.",
        "They make sure you are never left alone with the offender.",
    ]),
    ("You do not have to meet", "Forms, letters, videos, calls or a go-between", [
        "You do not have to meet face to face.",
        "You can use forms, letters, videos, calls or a go-between.",
    ]),
    ("How it can help", "85% of victims who took part felt it was a positive experience", [
        "How it can help.",
        ("Research shows that 85% of victims who took part felt it was a positive experience.",
         "Research shows that 85 percent of victims who took part felt it was a positive experience."),
    ]),
    ("Want to talk about it?", "Email us", [
        "Want to talk about it?",
        "If you would like to talk about whether restorative justice is right for you, email us.",
    ]),
]

WIDTH, HEIGHT = 854, 480
BACKGROUND, INK, BAND = "0xffffff", "0x0b0c0c", "0x1d3b6e"  # the site's colours
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
VOICE, SPEED = "en-gb", 170  # words a minute: a little slower than espeak-ng's 175
LEAD_IN, GAP, SLIDE_GAP = 0.5, 0.25, 0.5  # seconds of silence


def run(*args: str) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def need(tool: str, package: str) -> None:
    if shutil.which(tool) is None:
        sys.exit(f"{tool} is not installed: run `apt-get install -y {package}`.")


def stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def escape_drawtext(text: str) -> str:
    # Used with expansion=none, so % is plain text; quotes become a typographic apostrophe.
    return text.replace("\\", "\\\\").replace("'", "\u2019").replace(":", "\\:")


def draw_slide(path: Path, number: int, heading: str, line: str) -> None:
    filters = [f"drawbox=x=0:y=0:w=iw:h=18:color={BAND}:t=fill"]
    y = 120
    for part in textwrap.wrap(heading, 26, break_on_hyphens=False):
        filters.append(f"drawtext=expansion=none:fontfile={FONT_BOLD}:text='{escape_drawtext(part)}':fontsize=46:"
                       f"fontcolor={INK}:x=(w-text_w)/2:y={y}")
        y += 62
    y += 18
    for part in textwrap.wrap(line, 48, break_on_hyphens=False):
        filters.append(f"drawtext=expansion=none:fontfile={FONT}:text='{escape_drawtext(part)}':fontsize=30:"
                       f"fontcolor={INK}:x=(w-text_w)/2:y={y}")
        y += 42
    # The bottom of the picture stays empty for the captions.
    filters.append(f"drawtext=expansion=none:fontfile={FONT}:text='{number} of {len(SLIDES)}':fontsize=20:"
                   f"fontcolor=0x505a5f:x=w-text_w-24:y=36")
    run("ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", f"color=c={BACKGROUND}:s={WIDTH}x{HEIGHT}",
        "-frames:v", "1", "-vf", ",".join(filters), str(path))


def main() -> int:
    need("espeak-ng", "espeak-ng")
    need("ffmpeg", "ffmpeg")
    for font in (FONT, FONT_BOLD):
        if not Path(font).exists():
            sys.exit(f"{font} is missing: run `apt-get install -y fonts-dejavu-core`.")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cues: list[tuple[float, float, str]] = []
        slide_times: list[float] = []
        frames = bytearray()
        params = None
        now = 0.0

        def silence(seconds: float) -> None:
            nonlocal now
            count = int(round(seconds * params.framerate))
            frames.extend(b"\0" * count * params.sampwidth * params.nchannels)
            now += count / params.framerate

        for index, (_, _, sentences) in enumerate(SLIDES):
            slide_start = now
            for number, sentence in enumerate(sentences):
                caption, spoken = sentence if isinstance(sentence, tuple) else (sentence, sentence)
                wav = work / f"s{index}-{number}.wav"
                run("espeak-ng", "-v", VOICE, "-s", str(SPEED), "-w", str(wav), spoken)
                with wave.open(str(wav)) as clip:
                    if params is None:
                        params = clip.getparams()
                        silence(LEAD_IN)
                        slide_start = 0.0
                    data = clip.readframes(clip.getnframes())
                    length = clip.getnframes() / clip.getframerate()
                cues.append((now, now + length, caption))
                frames.extend(data)
                now += length
                silence(GAP)
            silence(SLIDE_GAP)
            slide_times.append(now - slide_start)

        narration = work / "narration.wav"
        with wave.open(str(narration), "wb") as out:
            out.setparams(params)
            out.writeframes(bytes(frames))

        concat = []
        for index, (heading, line, _) in enumerate(SLIDES):
            png = work / f"slide{index}.png"
            draw_slide(png, index + 1, heading, line)
            concat += [f"file '{png}'", f"duration {slide_times[index]:.3f}"]
        concat.append(f"file '{work / f'slide{len(SLIDES) - 1}.png'}'")  # the concat demuxer needs the last again
        (work / "slides.txt").write_text("\n".join(concat) + "\n")

        video = HERE / f"{NAME}.webm"
        run("ffmpeg", "-y", "-loglevel", "error",
            "-f", "concat", "-safe", "0", "-i", str(work / "slides.txt"), "-i", str(narration),
            "-map", "0:v", "-map", "1:a", "-map_metadata", "-1",
            "-vf", "fps=10,format=yuv420p",
            "-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "42", "-g", "50", "-row-mt", "1",
            "-c:a", "libopus", "-b:a", "32k", "-ac", "1", "-application", "voip",
            "-shortest", "-fflags", "+bitexact", str(video))
        shutil.copyfile(work / "slide0.png", HERE / f"{NAME}.png")

    vtt = ["WEBVTT", ""]
    for number, (start, end, text) in enumerate(cues, 1):
        vtt += [str(number), f"{stamp(start)} --> {stamp(end)}", text, ""]
    (HERE / f"{NAME}.en.vtt").write_text("\n".join(vtt), encoding="utf-8")

    minutes, seconds = divmod(round(now), 60)
    transcript = []
    for index, (heading, line, sentences) in enumerate(SLIDES, 1):
        words = " ".join(s[0] if isinstance(s, tuple) else s for s in sentences)
        stop = "" if heading[-1] in ".?!" else "."
        transcript += [f"**Slide {index} of {len(SLIDES)}: {heading}{stop}** On screen: {line}.", "", words, ""]
    entry = [
        "---",
        "# Made by videos/make_slideshow.py. Change the words there and run it again,",
        "# so the video, the captions and this transcript stay the same.",
        f"title: {TITLE}",
        "summary: >-",
        "  A short slideshow with a spoken voice. It explains what restorative justice is,",
        "  that it is always your choice, how we keep you safe and how it can help.",
        f"duration: \"{minutes}:{seconds:02d}\"",
        f"video: {NAME}.webm",
        f"captions: {NAME}.en.vtt",
        f"poster: {NAME}.png",
        "order: 1",
        "---",
        "",
        "There is no music. A voice reads out the words. Each slide shows a heading and a short line of text, and the voice says them too.",
        "",
        *transcript,
    ]
    (HERE / f"{NAME}.md").write_text("\n".join(entry).rstrip() + "\n", encoding="utf-8")

    size = (HERE / f"{NAME}.webm").stat().st_size
    print(f"{NAME}.webm: {now:.1f} s, {size / 1024:.0f} KiB, {len(cues)} captions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
