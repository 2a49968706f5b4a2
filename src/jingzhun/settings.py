"""Settings of a Jingzhun installation, read from the environment (``JINGZHUN_*``) or given in code.

>>> s = Settings(data="/tmp/jz", time_limits={"default": 15, "52": 20})
>>> s.database_url.endswith("/tmp/jz/ops.sqlite")
True
>>> s.time_limit_days("520102003004"), s.time_limit_days("441481104201")
(20, 15)
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """One class for every setting; each can be set as ``JINGZHUN_<NAME>`` (dicts as JSON)."""

    model_config = SettingsConfigDict(env_prefix="JINGZHUN_", extra="ignore")

    data: Path = Field(
        default=Path("jingzhun-data"), description="The data folder (Parquet datasets, ops.sqlite)."
    )
    db_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the operational store; default SQLite "
        "in the data folder. PostgreSQL: postgresql://user@host/db.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs session cookies; default: a random key kept in "
        "<data>/secret.key (created on first use, readable by the owner only).",
    )
    demo: bool = Field(default=False, description="Demo mode: allows demo users with known passwords.")
    time_limits: dict[str, int] = Field(
        default_factory=lambda: {"default": 15},
        description="Days from first clue to county confirmation, by "
        "region-code prefix (e.g. '52' for a province); 'default' otherwise.",
    )
    time_zone: str = Field(
        default="Asia/Shanghai", description="IANA time zone in which pages show times (stored in UTC)."
    )
    notice_days: int = Field(default=5, ge=1, description="Minimum days a village notice (公示) runs.")
    followup_months: int = Field(
        default=6, ge=1, description="A case under assistance needs a follow-up visit at least this often."
    )
    login_free_attempts: int = Field(
        default=5, ge=1, description="Failed logins in a row for one user name from one address before "
        "each further try must wait (login throttling)."
    )
    login_delay_seconds: float = Field(
        default=1.0, gt=0, description="The first wait after the free attempts; it doubles with each failure."
    )
    login_max_delay_seconds: int = Field(default=900, ge=1, description="The longest wait between tries.")
    login_window_hours: int = Field(
        default=24, ge=1, description="Failed logins older than this are forgotten by the throttle."
    )
    token_hours: int = Field(default=12, ge=1, description="Lifetime of an API token or page session.")
    threads: int | None = Field(
        default=None, ge=1, description="Threads of the engine in a monthly run (default: every core)."
    )
    memory_limit: str | None = Field(
        default=None,
        description="Memory limit of the engine in a monthly run, e.g. '12GiB' (DuckDB spills to "
        "temp_directory beyond it; default: DuckDB's 80% of RAM).",
    )
    temp_directory: Path | None = Field(
        default=None, description="Where a monthly run spills to disk; default <data>/spill."
    )
    cookie_name: str = "jingzhun_session"
    cookie_secure: bool = Field(default=False, description="Send the session cookie over HTTPS only.")

    @property
    def database_url(self) -> str:
        """The operational store's URL: ``db_url`` or SQLite in the data folder."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(Path(self.data) / 'ops.sqlite').resolve()}"

    @cached_property
    def signing_key(self) -> str:
        """``secret_key``, or the key stored in the data folder (created on first use)."""
        if self.secret_key:
            return self.secret_key
        path = Path(self.data) / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
        return path.read_text().strip()

    @property
    def spill_directory(self) -> Path:
        """``temp_directory``, or ``spill`` in the data folder."""
        return Path(self.temp_directory) if self.temp_directory else Path(self.data) / "spill"

    def time_limit_days(self, region_code: str) -> int:
        """Days allowed from first clue to confirmation for a case in ``region_code``: the longest
        matching prefix in ``time_limits`` wins, else ``default`` (15)."""
        best: tuple[int, int] | None = None
        for key, days in self.time_limits.items():
            if key != "default" and region_code.startswith(key) and (best is None or len(key) > best[0]):
                best = (len(key), int(days))
        return best[1] if best else int(self.time_limits.get("default", 15))
