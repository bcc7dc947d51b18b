"""Extensions, created unbound and initialised in the factory."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from app.core.db import db

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
migrate = Migrate()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def member_or_address() -> str:
    """Rate-limit key for signed-in pages: the member (colleagues behind one office NAT share an address)."""
    from flask_login import current_user

    if current_user and getattr(current_user, "is_authenticated", False):
        return f"member:{current_user.id}"
    return get_remote_address()


def retry_after_seconds() -> int:
    """Seconds until the rate limit that refused this request resets (at least 1; 60 when unknown).

    The X-RateLimit-* headers are off (RATELIMIT_HEADERS_ENABLED): they cost a second round trip to the
    limiter's storage on every limited request, the claim path included; a refusal still says when to retry.
    """
    import logging
    import math
    import time

    try:
        window = limiter.current_limit
        if window is not None:  # whole seconds, never longer than the limit's window
            return max(1, min(window.limit.get_expiry(), math.ceil(window.reset_at - time.time())))
    except Exception:  # the limiter's state is best effort here; the 429 itself stands
        logging.getLogger("surgeline").debug("no limit window for Retry-After", exc_info=True)
    return 60


__all__ = ["db", "login_manager", "csrf", "babel", "migrate", "limiter", "member_or_address", "retry_after_seconds"]
