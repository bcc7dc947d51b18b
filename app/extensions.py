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


__all__ = ["db", "login_manager", "csrf", "babel", "migrate", "limiter", "member_or_address"]
