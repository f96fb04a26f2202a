"""Runtime settings, read once from the environment (prefix ``GIAIBAO_``)."""

from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GIAIBAO_", env_file=".env", extra="ignore")

    env: str = "dev"
    database_url: str = "sqlite:///./giaibao.db"
    upload_dir: Path = Path("./uploads")
    # `giaibao serve` sweeps crash leftovers from the upload folder at start-up and then every
    # this many minutes while it runs; 0 turns the periodic sweep off.
    upload_sweep_minutes: float = 10
    secret_key: str = DEV_SECRET
    session_days: int = 14
    token_hours: int = 12
    # Failed-login throttling (see app.accounts.rules): 429 with Retry-After once one account
    # from one address, or one address overall, has failed N times inside the window; after
    # the free failures of an account from addresses it never signed in from, each further
    # attempt waits 2, 4, 8 … seconds (at most the window) since the last failure.
    login_window_minutes: int = 15
    login_max_failures_per_pair: int = 5
    login_free_failures_per_account: int = 5
    login_max_failures_per_address: int = 30
    # How many addresses per account are remembered as ones it signed in from.
    login_known_addresses: int = 10
    default_language: str = "vi"
    # Largest request body outside file uploads (forms, JSON), in KB: 413 beyond.
    max_body_kb: int = 1024

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.env == "production" and self.secret_key == DEV_SECRET:
            raise ValueError(
                "GIAIBAO_SECRET_KEY must be set to a private value when GIAIBAO_ENV=production"
            )
        return self

    @property
    def is_dev(self) -> bool:
        return self.env in ("dev", "test")


@lru_cache
def get_settings() -> Settings:
    return Settings()
