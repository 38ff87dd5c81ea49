"""MkDocs' way into the Videos page (sitebuild/videos/): the page and its files, added to MkDocs' files.

videos.md is a generated page (File.generated, MkDocs 1.6); each video's files are copied to
/videos/. A problem in the catalogue stops the build, naming the file.
"""
from __future__ import annotations

import os
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

from sitebuild import BuildError, videos
from sitebuild.settings import ROOT, videos_dir


def on_files(files, config):
    folder = videos_dir()
    try:
        meta, intro, entries = videos.read_catalogue(folder)
    except BuildError as error:
        raise PluginError(str(error)) from None
    if files.get_file_from_path(videos.PAGE) is not None:
        raise PluginError(f"{config.docs_dir}/{videos.PAGE} would hide the Videos page made from the videos folder. "
                          "Remove it: the Videos page is written in videos/index.md.")
    page = File.generated(config, videos.PAGE, content=videos.page_markdown(meta, intro, entries))
    if folder == ROOT / "videos":
        # "Edit this page" (staff previews) opens videos/index.md (edit_uri points into docs_dir; urljoin resolves ..).
        page.edit_uri = os.path.relpath(folder / videos.INDEX, Path(config.docs_dir).resolve()).replace(os.sep, "/")
    files.append(page)
    for entry in entries:
        for path in entry.files:
            uri = f"{videos.MEDIA}/{path.name}"
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
