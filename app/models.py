"""Imports every table so that SQLModel.metadata knows them all (Alembic, tests)."""

from app.accounts.models import (  # noqa: F401
    AccountToken,
    ApiToken,
    KnownAddress,
    LoginThrottle,
    User,
    WebSession,
)
from app.audit.models import AuditEntry  # noqa: F401
from app.awards.models import Award, Category  # noqa: F401
from app.entries.models import Entry, EntryAuthor, EntryCount, EntryFile  # noqa: F401
from app.mail.models import Mail, MailAttempt  # noqa: F401
from app.judging.models import (  # noqa: F401
    Assignment,
    Criterion,
    PanelCategory,
    PanelMember,
    Round,
    Score,
    ScoreChange,
    ShortlistEntry,
)
from app.results.models import Allocation, Certificate, Prize  # noqa: F401
