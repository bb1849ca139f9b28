"""A browser session as the web layer sees it (the row lives in ``web_sessions``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WebSession:
    id: str
    account_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
