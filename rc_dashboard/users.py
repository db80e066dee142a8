"""Local user accounts: a YAML file of users, roles and salted, slow password hashes.

Used when the council has not configured single sign-on (``[auth]`` in secrets). With single
sign-on the identity provider checks the password and this file only maps an e-mail address to a
role. An admin manages the file with ``python -m rc_dashboard users add|list|remove|passwd``.

Hashes are scrypt (RFC 7914, in Python's standard library): memory-hard, so guessing passwords
from a stolen file is slow on GPUs. Each hash carries its own salt and cost, so the cost can be
raised later without invalidating old hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from rc_dashboard.access import Principal, roles
from rc_dashboard.config import ConfigError, data_dir

# scrypt cost: one of OWASP's recommended settings (n=2**15, r=8, p=3): 32 MiB of memory and about
# 0.4 s per check on a 2-core server, slow enough for guessing, quick enough for one sign-in.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 3
SALT_BYTES, KEY_BYTES = 16, 32
MIN_PASSWORD_LENGTH = 12
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._@+-]{2,128}$")


class UserError(ValueError):
    """A user could not be added or changed; the message says why."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    name: str = ""
    locality: str | None = None
    password_hash: str | None = None  # None: signs in only through single sign-on

    def principal(self) -> Principal:
        return Principal(self.username, self.role, self.locality, self.name)


def users_file() -> Path:
    """``RC_USERS_FILE`` or ``users.yaml`` in the data folder (never in the repository)."""
    return Path(os.environ.get("RC_USERS_FILE", data_dir() / "users.yaml"))


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$n$r$p$salt$key`` with a fresh random salt (base64 without padding)."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + 2**20, dklen=KEY_BYTES
    )
    encode = lambda raw: base64.b64encode(raw).decode("ascii").rstrip("=")  # noqa: E731
    return f"scrypt${n}${r}${p}${encode(salt)}${encode(key)}"


def _decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; compared in constant time. Malformed hashes never match."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        n_, r_, p_ = int(n), int(r), int(p)
        expected = _decode(key)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_decode(salt),
            n=n_,
            r=r_,
            p=p_,
            maxmem=256 * n_ * r_ + 2**20,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check against when the user name is unknown, so a wrong name costs as much as a wrong password."""
    return hash_password(secrets.token_hex(16))


def load_users(path: Path | None = None) -> dict[str, User]:
    """The users in the file, by lower-case user name; an absent file means no users."""
    path = path or users_file()
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"The users file {path} is not valid YAML: {exc}") from exc
    entries = raw.get("users", []) if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"The users file {path} must hold a list 'users'.")
    users = {}
    for number, entry in enumerate(entries, start=1):
        try:
            user = User(
                username=str(entry["username"]).lower(),
                role=str(entry["role"]),
                name=str(entry.get("name") or ""),
                locality=entry.get("locality") or None,
                password_hash=entry.get("password_hash") or None,
            )
            user.principal()  # checks the role and the locality
        except (KeyError, TypeError, AttributeError, ConfigError) as exc:
            raise ConfigError(f"The users file {path}, user {number}: {exc}") from exc
        users[user.username] = user
    return users


def save_users(users: dict[str, User], path: Path | None = None) -> None:
    """Write the file atomically (a crash leaves the old file), readable by its owner only."""
    path = path or users_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(
        {
            "users": [
                {k: v for k, v in asdict(u).items() if v} for u in sorted(users.values(), key=lambda u: u.username)
            ]
        },
        sort_keys=False,
    )
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".users-", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_password_strength(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if username.lower() in password.lower():
        raise UserError("The password must not contain the user name.")


def add_user(
    users: dict[str, User],
    username: str,
    role: str,
    *,
    name: str = "",
    locality: str | None = None,
    password: str | None = None,
) -> dict[str, User]:
    """A new user list with the user added (``password`` None: single sign-on only)."""
    key = username.lower()
    if key.startswith("demo-"):
        raise UserError("User names starting 'demo-' are reserved for the demo's role switcher.")
    if not USERNAME_PATTERN.match(username):
        raise UserError(
            f"'{username}' is not a valid user name: use 2 to 128 letters, digits or . _ @ + - (an e-mail address works)."
        )
    if key in users:
        raise UserError(f"User '{key}' already exists; remove it first or use 'passwd'.")
    if role not in roles():
        raise UserError(f"'{role}' is not a role; roles are {', '.join(roles())}.")
    if password is not None:
        check_password_strength(password, key)
    user = User(key, role, name, locality, hash_password(password) if password is not None else None)
    try:
        user.principal()
    except ConfigError as exc:
        raise UserError(str(exc)) from exc
    return {**users, key: user}


def remove_user(users: dict[str, User], username: str) -> dict[str, User]:
    key = username.lower()
    if key not in users:
        raise UserError(f"There is no user '{key}'.")
    return {k: v for k, v in users.items() if k != key}


def set_password(users: dict[str, User], username: str, password: str) -> dict[str, User]:
    key = username.lower()
    if key not in users:
        raise UserError(f"There is no user '{key}'.")
    check_password_strength(password, key)
    old = users[key]
    return {**users, key: User(old.username, old.role, old.name, old.locality, hash_password(password))}


def authenticate(users: dict[str, User], username: str, password: str) -> Principal | None:
    """The principal for a correct user name and password, else None (same work either way)."""
    user = users.get(username.strip().lower())
    stored = user.password_hash if user and user.password_hash else _dummy_hash()
    matched = verify_password(password, stored)
    return user.principal() if matched and user is not None and user.password_hash else None


def principal_for_email(users: dict[str, User], email: str | None) -> Principal | None:
    """After single sign-on: the role of the user whose user name is this e-mail address."""
    if not email:
        return None
    user = users.get(email.strip().lower())
    return user.principal() if user else None
