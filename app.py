"""RC Dashboard: the router. Page set-up, first-start data, sign-in, the shared filter bar, navigation.

The menu lists only the pages the signed-in role may use; each page checks again itself.
"""

from pathlib import Path

import streamlit as st

from rc_dashboard import config
from rc_dashboard.ui import auth, cached, filters, layout, prewarm, startup

# (section, script, title, icon, capability the role needs)
PAGES = [
    ("Explore", "pages/overview.py", "Overview", ":material/dashboard:", "explore"),
    ("Explore", "pages/map.py", "Map", ":material/map:", "explore"),
    ("Hotspots", "pages/hotspots.py", "Hotspots", ":material/local_fire_department:", "hotspots"),
    ("Performance", "pages/measures.py", "Performance measures", ":material/monitoring:", "measures"),
    ("Reports", "pages/ward_summary.py", "Ward summary", ":material/description:", "ward_summary"),
    ("Reports", "pages/locality_pack.py", "Locality pack", ":material/folder_open:", "locality_pack"),
    ("Data", "pages/data.py", "Data", ":material/database:", "import"),
    ("Admin", "pages/audit.py", "Audit log and users", ":material/policy:", "view_audit"),
]

# A local icon: a Material icon name would make every visitor's browser fetch it from Google's servers.
ICON = Path(__file__).parent / "assets" / "icon.png"
st.set_page_config(page_title="RC Dashboard", page_icon=str(ICON), layout="wide")
startup.leave_legacy_pages_mode()  # a fresh server's first run, before anything is drawn
startup.warm_imports()  # the pages' heavy modules, in the background while this run draws
prewarm.start()  # after an import, this server fills its caches with the new data's views
startup.ensure_data()

# One run draws one version of the data: the version is read once, here (see cached.one_version_per_run).
with cached.one_version_per_run():
    with startup.database_errors_as_messages():
        principal = auth.current_principal()
    st.session_state[auth.KEY_CURRENT] = principal
    if principal is None:
        # Every page's address leads to the sign-in form, so a link to /map is not "page not found"
        # and, after signing in, the same address opens the page it names.
        sign_in = [st.Page(auth.sign_in_page, title="Sign in", icon=":material/login:", default=True)]
        sign_in += [st.Page(auth.sign_in_page, title="Sign in", url_path=Path(script).stem) for _, script, *_ in PAGES]
        with startup.database_errors_as_messages():
            st.navigation(sign_in, position="hidden").run()
        st.stop()

    auth.identity_box(principal)
    sections: dict[str, list] = {}
    for section, script, title, icon, capability in PAGES:
        if principal.can(capability):
            sections.setdefault(section, []).append(st.Page(script, title=title, icon=icon, default=not sections))
    if not sections:
        st.warning(f"Your role ({principal.role_info.label}) has no pages. Ask an administrator (config/roles.yaml).")
        st.stop()
    navigation = st.navigation(sections)
    with startup.database_errors_as_messages():
        if principal.can("explore") or principal.can("hotspots"):  # the pages that use the filter bar
            st.session_state["current_filter"] = filters.filter_bar()
        layout.partnership_header(config.area_config().area_name, cached.data_loaded(cached.data_version()))
        navigation.run()
