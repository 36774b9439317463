"""Console pages for tenant admins, reports and the platform operator."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
