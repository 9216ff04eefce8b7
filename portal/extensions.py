"""Extensions are created unbound here and bound to an app in create_app()."""

import time
from typing import TYPE_CHECKING, ClassVar

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from limits.storage import MemoryStorage
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        # Every model here is mapped to a Table (DeclarativeBase says only FromClause).
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # Flask-SQLAlchemy builds db.Model at run time from Base: to a type checker it is Base.
    Model = Base
else:
    Model = db.Model
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
babel = Babel()


class MemoryLimitStorage(MemoryStorage):
    """limits' in-process store (`memory://`), with its clean-up throttled. The stock
    store starts a timer after nearly every hit that walks every key of the last minute,
    so an API call cost more the more callers the minute had. Here that walk runs at
    most once an EXPIRY_INTERVAL. Nothing expired ever counts (every check compares
    timestamps), so this only frees memory later. Registered for the `memory` scheme in
    place of the stock class."""

    STORAGE_SCHEME = ["memory"]
    EXPIRY_INTERVAL = 1.0

    def __init__(self, *args, **kwargs):
        self._expiry_due = 0.0
        super().__init__(*args, **kwargs)

    # The stock store's private hook (name-mangled): tests/unit/test_rate_limits.py
    # fails if a new release of limits renames it.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._expiry_due:
            return
        self._expiry_due = now + self.EXPIRY_INTERVAL
        super()._MemoryStorage__schedule_expiry()


limiter = Limiter(key_func=get_remote_address, default_limits=[])
