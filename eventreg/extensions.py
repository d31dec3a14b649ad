"""Extension objects, created once and bound to the app in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from .locale_formats import NumberFormattingBabel


class Base(DeclarativeBase):
    """Declarative base shared by every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = NumberFormattingBabel()  # whole numbers in messages written for the reader's locale
# Limits are declared on the views they guard (registration/limits.py: registration, lost link, change of email;
# auth/throttle.py: login attempts); none by default.
limiter = Limiter(key_func=get_remote_address)
