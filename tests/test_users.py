"""Local accounts: scrypt hashes, the users file and the ``users`` command."""

from __future__ import annotations

import hashlib
import io
import stat

import pytest

from rc_dashboard import audit, cli, users
from rc_dashboard.access import system_principal
from rc_dashboard.config import ConfigError
from rc_dashboard.db import connect

PASSWORD = "a long enough passphrase"


def test_hash_is_salted_scrypt_and_verifies():
    first, second = users.hash_password(PASSWORD, n=2**10), users.hash_password(PASSWORD, n=2**10)
    assert first != second, "a fresh salt each time"
    scheme, n, r, p, salt, key = first.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**10, 8, 3)
    # The stored key is exactly RFC 7914 scrypt of the password and salt (checked with hashlib directly).
    expected = hashlib.scrypt(PASSWORD.encode(), salt=users._decode(salt), n=2**10, r=8, p=3, dklen=32)
    assert users._decode(key) == expected
    assert users.verify_password(PASSWORD, first)
    assert not users.verify_password(PASSWORD + "x", first)
    assert not users.verify_password(PASSWORD, "plain-text")
    assert not users.verify_password(PASSWORD, "md5$1$2$3$abc$def")


def test_default_cost_is_owasp_strength():
    stored = users.hash_password(PASSWORD)
    assert stored.split("$")[1:4] == ["32768", "8", "3"]


def test_add_remove_passwd_and_rules(tmp_path):
    path = tmp_path / "users.yaml"
    accounts = users.add_user({}, "Ann@Council.gov.uk", "analyst", name="Ann", password=PASSWORD)
    accounts = users.add_user(accounts, "lee", "locality_lead", locality="North", password=PASSWORD)
    accounts = users.add_user(accounts, "sso@council.gov.uk", "board")
    with pytest.raises(users.UserError, match="already exists"):
        users.add_user(accounts, "ann@council.gov.uk", "board", password=PASSWORD)
    with pytest.raises(users.UserError, match="at least 12"):
        users.add_user(accounts, "bob", "board", password="short")
    with pytest.raises(users.UserError, match="needs a locality"):
        users.add_user(accounts, "bob", "locality_lead", password=PASSWORD)
    with pytest.raises(users.UserError, match="not a role"):
        users.add_user(accounts, "bob", "root", password=PASSWORD)
    with pytest.raises(users.UserError, match="not a valid user name"):
        users.add_user(accounts, "bob smith<script>", "board", password=PASSWORD)
    users.save_users(accounts, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = users.load_users(path)
    assert set(loaded) == {"ann@council.gov.uk", "lee", "sso@council.gov.uk"}
    assert loaded["lee"].principal().locality == "North"
    assert users.authenticate(loaded, " ANN@council.gov.uk", PASSWORD).role == "analyst"
    assert users.authenticate(loaded, "ann@council.gov.uk", "wrong password!!") is None
    assert users.authenticate(loaded, "nobody", PASSWORD) is None
    assert users.authenticate(loaded, "sso@council.gov.uk", "") is None, "single sign-on users have no password"
    assert users.principal_for_email(loaded, "SSO@council.gov.uk").role == "board"
    assert users.principal_for_email(loaded, "stranger@example.com") is None
    changed = users.set_password(loaded, "lee", "another long passphrase")
    assert users.authenticate(changed, "lee", "another long passphrase") is not None
    assert users.authenticate(changed, "lee", PASSWORD) is None
    assert "lee" not in users.remove_user(changed, "lee")


def test_a_broken_users_file_is_a_clear_error(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text("users:\n  - {username: x, role: wizard}\n")
    with pytest.raises(ConfigError, match="user 1"):
        users.load_users(path)
    assert users.load_users(tmp_path / "absent.yaml") == {}


def test_cli_users_add_list_remove_with_audit(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["users", "add", "ann", "--role", "analyst", "--name", "Ann", "--password-stdin", "--db", url]) == 0
    assert cli.main(["users", "add", "sso@x.gov.uk", "--role", "councillor", "--sso", "--db", url]) == 0
    assert cli.main(["users", "list", "--db", url]) == 0
    listed = capsys.readouterr().out
    assert "ann\tanalyst\tAnn\t(password)" in listed and "sso@x.gov.uk\tcouncillor" in listed
    assert PASSWORD not in users.users_file().read_text() and "scrypt$" in users.users_file().read_text()
    assert cli.main(["users", "remove", "ann", "--db", url]) == 0
    assert cli.main(["users", "remove", "ann", "--db", url]) == 2
    assert "no user 'ann'" in capsys.readouterr().err
    log = audit.read_log(connect(url), system_principal(), action="users_changed")
    assert len(log) == 3 and all(log["user_name"] == "system")
