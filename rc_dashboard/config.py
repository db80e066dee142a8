"""Settings: where the database lives and which configuration files describe the area.

Everything that differs between councils (area name, sources, categories, roles) lives in
YAML files under ``config/`` so a partnership changes files under version control, not code.
Environment variables override the defaults so one image can serve several deployments:

- ``RC_DATABASE_URL``: any SQLAlchemy URL (default: SQLite file ``data/rc_dashboard.sqlite``)
- ``RC_DATA_DIR``: folder for the embedded database and demo files (default ``data/``)
- ``RC_CONFIG_DIR``: folder holding ``area.yaml`` and ``categories.yaml`` (default ``config/``)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"
SQLITE_FILE_NAME = "rc_dashboard.sqlite"


class ConfigError(ValueError):
    """A configuration file is missing or malformed; the message names the file and the key."""


@dataclass(frozen=True)
class SourceConfig:
    """One data source of the partnership (police, council, fire, housing, ...)."""

    key: str
    label: str
    kind: str  # "points" (incident records) or "counts" (aggregated only)


@dataclass(frozen=True)
class AreaConfig:
    """Facts about the partnership area that are not data: its name and its sources."""

    area_name: str
    sources: tuple[SourceConfig, ...]
    suppression_threshold: int = 4
    extra: dict = field(default_factory=dict)
    # What the partnership calls its area in sentences ("the borough's wards"): borough, district, city, county.
    area_word: str = "borough"


def data_dir() -> Path:
    return Path(os.environ.get("RC_DATA_DIR", DEFAULT_DATA_DIR))


def config_dir() -> Path:
    return Path(os.environ.get("RC_CONFIG_DIR", DEFAULT_CONFIG_DIR))


def default_sqlite_path() -> Path:
    return data_dir() / SQLITE_FILE_NAME


def database_url_default() -> str:
    """The embedded SQLite database under the data folder."""
    return f"sqlite:///{default_sqlite_path()}"


DEMO_ENV = "RC_DEMO"  # "1": build and offer the demo borough on any database; "0": never (production)


def demo_setting() -> bool | None:
    """``RC_DEMO`` as said: True for "1", False for "0", None when unset (the database decides)."""
    return {"1": True, "0": False}.get(os.environ.get(DEMO_ENV, ""))


PREWARM_ENV = "RC_PREWARM"  # "0": no cache-filling thread in the server (see rc_dashboard.ui.prewarm)


def prewarm_enabled() -> bool:
    """Whether the server refills its caches after an import (on unless ``RC_PREWARM=0``)."""
    return os.environ.get(PREWARM_ENV, "1") != "0"


def database_url(explicit: str | None = None) -> str:
    """The database to use: an explicit ``--db`` URL, else ``RC_DATABASE_URL``, else embedded SQLite."""
    if explicit:
        return explicit
    from_env = os.environ.get("RC_DATABASE_URL")
    if from_env:
        return from_env
    return database_url_default()


def read_yaml(path: Path) -> dict:
    """Read a YAML mapping, turning parser errors into one clear sentence."""
    try:
        with path.open(encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"Configuration file {path} does not exist.") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"Configuration file {path} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"Configuration file {path} must hold a mapping of keys to values.")
    return loaded


@lru_cache(maxsize=8)
def _load_area_config(path: Path) -> AreaConfig:
    raw = read_yaml(path)
    try:
        sources = tuple(
            SourceConfig(key=str(s["key"]), label=str(s["label"]), kind=str(s.get("kind", "points")))
            for s in raw.get("sources", [])
        )
        return AreaConfig(
            area_name=str(raw["area_name"]),
            sources=sources,
            suppression_threshold=int(raw.get("suppression_threshold", 4)),
            extra={
                k: v for k, v in raw.items() if k not in {"area_name", "sources", "suppression_threshold", "area_word"}
            },
            area_word=_area_word(raw.get("area_word", "borough"), path),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"Configuration file {path} is missing or has a bad value for {exc}.") from exc


AREA_WORDS = ("borough", "district", "city", "county", "area")


def _area_word(value: object, path: Path) -> str:
    word = str(value or "borough").strip().lower()
    if word not in AREA_WORDS:
        raise ConfigError(
            f"Configuration file {path}: area_word must be one of {', '.join(AREA_WORDS)}; got '{value}'."
        )
    return word


def area_config() -> AreaConfig:
    return _load_area_config(config_dir() / "area.yaml")
