"""The Content-Security-Policy: one policy for the site and the enquiry service.

The site's build (hooks/netlify_files.py) writes it into Netlify's _headers with
the hashes of the built pages' inline scripts; the service (security.py) sends
it with the hashes of the form's shell. Keeping it here means the two cannot
drift. Standard library only: the build loads this file by its path on Netlify,
where Flask is not installed.
"""
from __future__ import annotations

# Everything but script-src (which carries the hashes) and frame-src (only on a
# page that embeds a provider's player, see hooks/videos.py).
DIRECTIVES = (
    "default-src 'self'",
    "{script_src}",
    "style-src 'self'",
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


def policy(script_hashes=(), frame_origins=()) -> str:
    """The policy, allowing inline scripts only by the given quoted hashes."""
    script_src = " ".join(["script-src 'self'", *sorted(set(script_hashes))])
    frame_src = " ".join(["frame-src 'self'", *sorted(set(frame_origins))]) if frame_origins else ""
    directives = (d.format(script_src=script_src, frame_src=frame_src) for d in DIRECTIVES)
    return "; ".join(d for d in directives if d)
