"""Incident categories: the police.uk crime types and the partners' categories.

police.uk has published 14 street-level crime types since May 2017; older files use a few
retired names, which :data:`LEGACY_CRIME_TYPES` maps onto the current ones so a long series
reads as one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rc_dashboard.config import ConfigError, config_dir, read_yaml

POLICE_CRIME_TYPES: tuple[str, ...] = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
ASB = "Anti-social behaviour"

# Names used by police.uk before the 2013 and 2017 reclassifications.
LEGACY_CRIME_TYPES: dict[str, str] = {
    "Violent crime": "Violence and sexual offences",
    "Violence and sexual offences": "Violence and sexual offences",
    "Public disorder and weapons": "Public order",
    "Burglary": "Burglary",
}


@dataclass(frozen=True)
class Category:
    name: str
    group: str
    sensitive: bool


@lru_cache(maxsize=8)
def _load_categories(path: Path) -> tuple[Category, ...]:
    raw = read_yaml(path)
    try:
        return tuple(
            Category(name=str(c["name"]), group=str(c.get("group", "Other")), sensitive=bool(c.get("sensitive", False)))
            for c in raw["categories"]
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"Configuration file {path} needs a list 'categories' of entries with a 'name'.") from exc


def categories() -> tuple[Category, ...]:
    """The configured categories, police.uk types first."""
    return _load_categories(config_dir() / "categories.yaml")


def sensitive_categories() -> frozenset[str]:
    return frozenset(c.name for c in categories() if c.sensitive)


def non_sensitive_categories() -> frozenset[str]:
    """Categories configured as *not* sensitive. Point rules allow these and nothing else, so a
    category a partner mapping invents (or misspells) counts as sensitive until it is configured."""
    return frozenset(c.name for c in categories() if not c.sensitive)


@lru_cache(maxsize=8)
def _load_harm_weights(path: Path) -> dict[str, float]:
    raw = read_yaml(path)
    weights = raw.get("weights")
    if not isinstance(weights, dict):
        raise ConfigError(f"Configuration file {path} needs a mapping 'weights' of category to days.")
    try:
        return {str(name): float(days) for name, days in weights.items()}
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Configuration file {path}: every harm weight must be a number of days ({exc}).") from exc


def harm_weights() -> dict[str, float]:
    """Days-of-imprisonment weight per category (config/harm.yaml); unknown categories weigh 0."""
    return _load_harm_weights(config_dir() / "harm.yaml")
