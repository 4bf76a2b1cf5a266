"""Settings, read from environment variables when the app starts."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    newsletter_db: Path = Path("data/newsletter.db")
    """NEWSLETTER_DB: the SQLite file; its folder is created on first start."""

    mail_delay: float = Field(default=1.0, ge=0)
    """MAIL_DELAY: seconds the pretend mail server takes to accept one email."""

    mail_timeout: float = Field(default=5.0, gt=0)
    """MAIL_TIMEOUT: seconds after which a send that never finished counts as
    dead (its process crashed), and another run of the job may send it again;
    above the longest send (MAIL_DELAY), below the visibility timeout (10 s)."""

    admin_email: str = "admin@example.com"
    """ADMIN_EMAIL: who hears about every new subscriber."""

    celery_broker_url: str = ""
    """CELERY_BROKER_URL: where jobs wait for a worker, e.g. redis://127.0.0.1:6379/0;
    empty: an SQLite file beside the database (no server needed)."""


settings = Settings()
