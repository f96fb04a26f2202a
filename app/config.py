"""Runtime settings, read once from the environment (prefix ``GIAIBAO_``)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

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
    # Where uploaded files, certificates and other stored files live: "local" (the folder
    # upload_dir, the default) or "s3" (an S3-compatible object store: AWS S3, MinIO, Ceph…).
    storage: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    # The store's address, e.g. http://127.0.0.1:9000 for MinIO; none for AWS itself.
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    # Credentials; when unset, boto3's own chain (AWS_* variables, instance role…) is used.
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    # Every key of ours starts with this (e.g. "giaibao/"), so one bucket may be shared.
    s3_prefix: str = ""
    # "path" (http://host/bucket/key, what MinIO and most self-hosted stores want),
    # "virtual" (http://bucket.host/key) or "auto".
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    # Uploads stream in parts of this size (S3 wants at least 5 MiB but for the last part);
    # one part at most is held in memory per upload.
    s3_part_mib: int = 8
    s3_connect_timeout_seconds: float = 5
    s3_read_timeout_seconds: float = 30
    # The sweep aborts multipart uploads that received no part for this long (a killed
    # server's); a live upload sends a part every s3_part_mib.
    s3_abandoned_upload_minutes: float = 60
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

    # Absolute address of the portal, for the links in mails.
    base_url: str = "http://127.0.0.1:8000"
    # Outgoing mail. With no SMTP host (the development default) mails are kept in the outbox,
    # shown to organizers, and not sent.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_from: str = "Giải báo chí <no-reply@giaibao.local>"
    smtp_timeout_seconds: float = 30
    # `giaibao serve` runs the mail sender in-process unless this is off (then run
    # `giaibao worker` separately).
    mail_worker: bool = True
    # Parallel SMTP connections of one sender; how often it looks for due mails.
    mail_concurrency: int = 4
    mail_poll_seconds: float = 5
    # A failed attempt is retried after base·2^(n−1) seconds (at most an hour), until the mail
    # has waited this long; then it is marked failed.
    mail_retry_base_seconds: float = 30
    mail_give_up_hours: float = 48
    # A sender that claimed a mail and vanished (killed mid-send) leaves it to the others
    # after this long.
    mail_lease_seconds: float = 300

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.env == "production" and self.secret_key == DEV_SECRET:
            raise ValueError(
                "GIAIBAO_SECRET_KEY must be set to a private value when GIAIBAO_ENV=production"
            )
        if self.storage == "s3":
            if not self.s3_bucket:
                raise ValueError("GIAIBAO_S3_BUCKET must be set when GIAIBAO_STORAGE=s3")
            if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
                raise ValueError("GIAIBAO_S3_ACCESS_KEY_ID and GIAIBAO_S3_SECRET_ACCESS_KEY "
                                 "must be set together")
        if self.s3_part_mib < 5:
            raise ValueError("GIAIBAO_S3_PART_MIB must be at least 5 (S3's smallest part)")
        if self.s3_prefix.startswith("/") or ".." in self.s3_prefix.split("/"):
            raise ValueError("GIAIBAO_S3_PREFIX must be a relative key prefix such as giaibao/")
        return self

    @property
    def is_dev(self) -> bool:
        return self.env in ("dev", "test")

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)


@lru_cache
def get_settings() -> Settings:
    return Settings()
