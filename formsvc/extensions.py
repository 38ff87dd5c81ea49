"""Extension instances only; ``create_app`` binds them to an app."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
# The client address comes from request.remote_addr, which ProxyFix sets from the
# trusted hop count only (see create_app); a raw X-Forwarded-For is never trusted.
limiter = Limiter(key_func=get_remote_address)
