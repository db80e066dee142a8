"""Who may see what: roles, the signed-in principal, and the rule for point-level data.

Roles and their capabilities are configuration (``config/roles.yaml``); this module gives them
meaning. Every core function that returns point-level data (individual incident locations, the
incidents behind a hotspot, repeat locations) takes a :class:`Principal` and narrows or refuses
its query here, so hiding a page is never the only protection: a councillor who types a page's
address or crafts query parameters still gets no points.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from rc_dashboard.config import ConfigError, config_dir, read_yaml

CAPABILITIES = frozenset(
    {
        "explore",
        "hotspots",
        "measures",
        "measures_by_area",
        "enter_values",
        "edit_register",
        "ward_summary",
        "locality_pack",
        "import",
        "view_audit",
        "manage_users",
    }
)
POINT_LEVELS = ("all", "non_sensitive", "own_locality", "none")


class AccessDenied(PermissionError):
    """The principal may not do this; the message says why in words a user understands."""


@dataclass(frozen=True)
class Role:
    key: str
    label: str
    description: str
    points: str
    can: frozenset[str]


@dataclass(frozen=True)
class Principal:
    """Someone using the app: a user name, a role key and, for a locality lead, their locality."""

    username: str
    role: str
    locality: str | None = None
    display_name: str = ""

    def __post_init__(self) -> None:
        role = roles().get(self.role)
        if role is None:
            raise ConfigError(f"'{self.role}' is not a role; roles are {', '.join(roles())}.")
        if role.points == "own_locality" and not self.locality:
            raise ConfigError(f"A {role.label.lower()} needs a locality (user '{self.username}').")

    @property
    def role_info(self) -> Role:
        return roles()[self.role]

    def can(self, capability: str) -> bool:
        if capability not in CAPABILITIES:
            raise ValueError(f"Unknown capability '{capability}'.")
        return capability in self.role_info.can

    def label(self) -> str:
        who = self.display_name or self.username
        where = f", {self.locality}" if self.locality and self.role_info.points == "own_locality" else ""
        return f"{who} ({self.role_info.label}{where})"

    def scope(self) -> Principal:
        """The same access without the person: a cache key shared by everyone with this access."""
        return replace(self, username="", display_name="")

    def analysis_scope(self) -> Principal:
        """The access an area-wide analysis (the hotspot scan) depends on: the role, not the person nor
        their locality. A locality lead's scan covers the whole area (their points rule narrows what
        they see of the incidents inside a hotspot, which keeps :meth:`scope`), so every lead shares
        one; a locality on a role that does not use one changes nothing."""
        locality = "any" if self.role_info.points == "own_locality" else None
        return replace(self, username="", display_name="", locality=locality)


@lru_cache(maxsize=8)
def _load_roles(path: Path) -> dict[str, Role]:
    raw = read_yaml(path).get("roles")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"Configuration file {path} needs a mapping 'roles'.")
    loaded = {}
    for key, spec in raw.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"Configuration file {path}: role '{key}' must be a mapping.")
        can = frozenset(str(c) for c in spec.get("can", []))
        unknown = sorted(can - CAPABILITIES)
        if unknown:
            raise ConfigError(
                f"Configuration file {path}: role '{key}' names unknown capabilities {', '.join(unknown)}; "
                f"known: {', '.join(sorted(CAPABILITIES))}."
            )
        points = str(spec.get("points", "none"))
        if points not in POINT_LEVELS:
            raise ConfigError(
                f"Configuration file {path}: role '{key}' has points '{points}'; use one of {', '.join(POINT_LEVELS)}."
            )
        loaded[str(key)] = Role(str(key), str(spec.get("label", key)), str(spec.get("description", "")), points, can)
    return loaded


def roles() -> dict[str, Role]:
    """The configured roles, by key, in the file's order."""
    return _load_roles(config_dir() / "roles.yaml")


def system_principal() -> Principal:
    """The command line runs with the database owner's rights (it needs a shell on the server)."""
    return Principal(username="system", role="admin", display_name="command line")


def require(principal: Principal, capability: str) -> None:
    """Raise :class:`AccessDenied` unless the principal's role has the capability."""
    if not principal.can(capability):
        raise AccessDenied(f"Your role ({principal.role_info.label}) does not include this ({capability}).")


@dataclass(frozen=True)
class PointScope:
    """The part of the point-level data a principal may see: the categories and localities allowed.

    Categories are an allow-list (None: all), never a deny-list, so a category nobody configured
    (a partner's own label, a misspelling) is held back rather than shown.
    """

    categories: tuple[str, ...] | None = None  # None: every category
    localities: tuple[str, ...] | None = None  # None: everywhere
    sensitive_examples: tuple[str, ...] = ()  # for the sentence shown to the user

    @property
    def restricted(self) -> bool:
        return self.categories is not None or self.localities is not None

    def describe(self) -> str | None:
        """A sentence for the page when points are narrowed, or None when nothing is held back."""
        parts = []
        if self.categories is not None:
            named = f" ({', '.join(self.sensitive_examples)})" if self.sensitive_examples else ""
            parts.append(
                f"sensitive categories{named} and any category not configured as non-sensitive are not shown as points"
            )
        if self.localities is not None:
            parts.append(f"points are shown only in {', '.join(self.localities)}")
        return ("For your role, " + "; ".join(parts) + ".") if parts else None


def point_scope(principal: Principal) -> PointScope:
    """What point-level data the principal may see; :class:`AccessDenied` if none at all."""
    level = principal.role_info.points
    if level == "none":
        raise AccessDenied(
            f"Your role ({principal.role_info.label}) does not include point-level data: "
            "use the ward summaries, which show aggregates with small numbers suppressed."
        )
    if level == "non_sensitive":
        from rc_dashboard.categories import non_sensitive_categories, sensitive_categories

        return PointScope(
            categories=tuple(sorted(non_sensitive_categories())),
            sensitive_examples=tuple(sorted(sensitive_categories())),
        )
    if level == "own_locality":
        return PointScope(localities=(str(principal.locality),))
    return PointScope()


def may_see_locality_detail(principal: Principal, locality: str) -> bool:
    """A locality lead sees detail (packs, points) only for their own locality; other roles for all."""
    return principal.role_info.points != "own_locality" or principal.locality == locality


def small_numbers_rule(principal: Principal) -> bool:
    """Whether what this principal sees of counts follows the small-number rule (suppressed or rounded).

    Roles that may see no point-level data (councillors) see only published aggregates: their ward
    tables are suppressed, so every other count they are shown (borough-wide measures included) must
    be too, or a hidden small count could be read off it.
    """
    return principal.role_info.points == "none"
