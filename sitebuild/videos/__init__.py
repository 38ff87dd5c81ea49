"""The Videos page, made from the catalogue in videos/: read and checked (catalogue.py),
then written as a Markdown page (page.py), for any builder."""
from .catalogue import INDEX, MEDIA, PAGE, Video, read_catalogue
from .page import page_markdown

__all__ = ["INDEX", "MEDIA", "PAGE", "Video", "page_markdown", "read_catalogue"]
