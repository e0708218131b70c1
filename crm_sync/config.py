"""Runtime settings from the environment: paths, store URL, budgets, credentials.

Credentials are :class:`~pydantic.SecretStr` and come only from the environment (DESIGN §6); their
``repr`` is masked, and :meth:`Settings.public` — what ``--json`` and the run record may show —
leaves them out entirely. Endpoint overrides point the adapters at the sandbox in tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """``CRM_SYNC_*`` settings plus the CRMs' own token variables.

    .. versionadded:: 0.1
    """

    model_config = SettingsConfigDict(env_prefix="CRM_SYNC_", extra="ignore", frozen=True)

    model_path: Path = Path("mappings/model.yaml")
    mappings_dir: Path = Path("mappings")
    store_url: str | None = None
    store_path: Path = Path(".crm_sync/state.sqlite")
    run_budget: int | None = Field(default=None, ge=1)
    rate_per_s: float = Field(default=9.0, ge=0)
    page_size: int = Field(default=100, ge=1, le=10_000)
    overlap_s: float = Field(default=300.0, ge=0)
    lease_ttl_s: float = Field(default=900.0, gt=0)
    defer_after_s: float = Field(default=0.5, ge=0)
    hubspot_base_url: str | None = None
    salesforce_instance_url: str | None = None
    hubspot_access_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("HUBSPOT_ACCESS_TOKEN")
    )
    salesforce_access_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SALESFORCE_ACCESS_TOKEN")
    )

    def mapping_path(self, target: str) -> Path:
        """``mappings/<target>.yaml``."""
        return self.mappings_dir / f"{target}.yaml"

    def public(self) -> dict[str, Any]:
        """Settings safe to print: every secret left out, not merely masked."""
        data = self.model_dump(exclude={"hubspot_access_token", "salesforce_access_token"})
        if data.get("store_url"):
            data["store_url"] = _mask_url(str(data["store_url"]))
        return data


def _mask_url(url: str) -> str:
    """Hide a password inside a database URL (``postgresql://user:***@host/db``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
