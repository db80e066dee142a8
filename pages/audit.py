"""Audit log and users: who imported, exported, viewed point-level data or signed in (admins only)."""

import pandas as pd
import streamlit as st

from rc_dashboard import audit, users
from rc_dashboard.access import roles
from rc_dashboard.config import ConfigError
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.export import to_csv_text
from rc_dashboard.ui import auth, cached, layout, widgets

principal = auth.page_principal("view_audit")
st.title("Audit log and users")
layout.demo_banner(cached.is_demo(cached.data_version()))
log_tab, users_tab = st.tabs(["Audit log", "Users and roles"])

with log_tab:
    left, right = st.columns([2, 1])
    action = left.selectbox(
        "What", [None, *audit.ACTIONS], format_func=lambda a: "Everything" if a is None else audit.ACTIONS[a]
    )
    limit = right.number_input("Newest rows", min_value=100, max_value=100_000, value=2_000, step=1_000)
    log = audit.read_log(cached.engine(), principal, action=action, limit=int(limit))
    if log.empty:
        st.info("Nothing has been recorded yet.")
    else:
        per_day = log.assign(day=pd.to_datetime(log["at"], utc=True).dt.date).groupby(["day", "action"]).size()
        st.bar_chart(per_day.unstack(fill_value=0), height=220)
        widgets.table(
            log[["at", "user_name", "role", "what", "detail"]],
            {"at": "When", "user_name": "User", "role": "Role", "what": "What", "detail": "Detail"},
            times=("at",),
        )
        auth.download_button(principal, "Download the log (CSV)", to_csv_text(log), "audit_log.csv", "text/csv")
    st.caption(
        f"Sign-ins: {audit.LOCKOUT_FAILURES} failures within {audit.LOCKOUT_MINUTES} minutes lock a user name "
        "for the rest of that window."
    )

with users_tab:
    if not principal.can("manage_users"):
        st.info("Your role cannot see the user list.")
    else:
        try:
            accounts = users.load_users()
        except ConfigError as exc:
            st.error(escape_markdown(exc))
            accounts = {}
        role_info = roles()
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "user": u.username,
                        "name": u.name,
                        "role": role_info[u.role].label,
                        "locality": u.locality or "",
                        "signs in with": "password" if u.password_hash else "single sign-on",
                    }
                    for u in accounts.values()
                ],
                columns=["user", "name", "role", "locality", "signs in with"],
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(f"Users file: {users.users_file()}. Change it on the server:")
        st.code(
            "python -m rc_dashboard users add NAME --role ROLE [--locality L] [--sso]\n"
            "python -m rc_dashboard users remove NAME\npython -m rc_dashboard users passwd NAME",
            language="bash",
        )
        st.subheader("What each role may see")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "role": r.label,
                        "point-level data": r.points,
                        "can": ", ".join(sorted(r.can)),
                        "about": r.description,
                    }
                    for r in role_info.values()
                ]
            ),
            hide_index=True,
            width="stretch",
        )
