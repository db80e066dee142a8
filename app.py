"""RC Dashboard: the router. Page set-up, first-start data, the shared filter bar, navigation."""

import streamlit as st

from rc_dashboard.ui import filters, startup

st.set_page_config(page_title="RC Dashboard", page_icon=":material/shield:", layout="wide")
startup.ensure_data()

navigation = st.navigation(
    {
        "Explore": [
            st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
            st.Page("pages/map.py", title="Map", icon=":material/map:"),
        ],
        "Hotspots": [st.Page("pages/hotspots.py", title="Hotspots", icon=":material/local_fire_department:")],
        "Performance": [st.Page("pages/measures.py", title="Performance measures", icon=":material/monitoring:")],
        "Reports": [
            st.Page("pages/ward_summary.py", title="Ward summary", icon=":material/description:"),
            st.Page("pages/locality_pack.py", title="Locality pack", icon=":material/folder_open:"),
        ],
        "Data": [st.Page("pages/data.py", title="Data", icon=":material/database:")],
    }
)
st.session_state["current_filter"] = filters.filter_bar()
navigation.run()
