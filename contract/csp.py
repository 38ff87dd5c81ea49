"""The Content-Security-Policy: one policy for the site and the enquiry service.

The site's finishing step (sitebuild/netlify.py) writes it into Netlify's _headers,
and into each page as a <meta> policy, with the hashes of the finished pages' inline
scripts and styles; the service (formsvc/security.py) sends it with the hashes of the
form's shell, read from the site's manifest. Keeping it here means the two cannot drift.
"""
from __future__ import annotations

# Everything but script-src and style-src (which carry the hashes) and frame-src (only
# on a page that embeds a provider's player, see sitebuild/videos/).
DIRECTIVES = (
    "default-src 'self'",
    "{script_src}",
    "{style_src}",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "{frame_src}",
    "worker-src 'self'",
    "manifest-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
)
# A browser ignores these in a <meta> policy (and says so in the console).
NOT_IN_META = ("frame-ancestors",)


def policy(script_hashes=(), frame_origins=(), style_hashes=(), *, meta: bool = False) -> str:
    """The policy, allowing inline scripts and styles only by the given quoted hashes.

    meta=True: the same policy for a <meta http-equiv> element, without the directives
    a browser only takes from a header."""
    script_src = " ".join(["script-src 'self'", *sorted(set(script_hashes))])
    style_src = " ".join(["style-src 'self'", *sorted(set(style_hashes))])
    frame_src = " ".join(["frame-src 'self'", *sorted(set(frame_origins))]) if frame_origins else ""
    directives = [d.format(script_src=script_src, style_src=style_src, frame_src=frame_src) for d in DIRECTIVES]
    if meta:
        directives = [d for d in directives if d.split(" ", 1)[0] not in NOT_IN_META]
    return "; ".join(d for d in directives if d)
