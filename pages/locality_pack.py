"""Locality pack: the briefing for a locality panel meeting, to read here or download."""

import streamlit as st

from rc_dashboard.access import may_see_locality_detail
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.paths import safe_file_part
from rc_dashboard.reports.pack_render import pack_html, pack_pdf
from rc_dashboard.reports.service import ReportError
from rc_dashboard.ui import analyses, auth, cached, layout, widgets

principal = auth.page_principal("locality_pack")
version = cached.data_version()
st.title("Locality pack")
layout.demo_banner(cached.is_demo(version))
quarters = cached.complete_quarters(version)
localities = [loc for loc in cached.distinct_values("locality", version) if may_see_locality_detail(principal, loc)]
if not quarters or not localities:
    layout.stop_without_a_quarter("Locality packs need a ward-to-locality lookup", cached.months_available(version))
left, right = st.columns(2)
locality = left.selectbox("Locality", localities, key="lp_locality")
quarter = layout.quarter_picker(right, quarters, "lp_quarter")
with (
    layout.stop_on(ReportError),
    analyses.being_computed_notice(cached.engine(), ("locality_pack", "ward_summaries", "hotspots")),
    st.status("Building the pack (hotspots, measures, wards, sources)…") as status,
):
    pack = cached.locality_pack(locality, quarter, principal.scope(), version)
    status.update(label="Pack ready", state="complete")
auth.record_point_view(principal, "locality pack", {"locality": locality, "quarter": quarter})

st.header(escape_markdown(f"{pack.locality}: {pack.quarter_long}"))
st.caption(escape_markdown("Filters: " + "; ".join(f"{k}: {v}" for k, v in pack.filters.items())))
left, right = st.columns(2)
stem = f"{safe_file_part(locality)}_{safe_file_part(quarter)}_pack"
with left:
    auth.download_button(principal, "Download PDF", lambda: pack_pdf(pack), f"{stem}.pdf", "application/pdf")
with right:
    auth.download_button(principal, "Download HTML", lambda: pack_html(pack), f"{stem}.html", "text/html")

st.subheader("Headlines")
for sentence in pack.headline:
    st.markdown(f"- {escape_markdown(sentence)}")
if pack.headline_detail:
    st.caption(escape_markdown(pack.headline_detail))
st.subheader("Wards")
widgets.table(pack.wards)
st.subheader("Locality map")
left, right = st.columns([3, 2])
left.image(
    pack.locality_map_png,
    caption="Wards, and every hotspot touching the locality (red: new, orange: rising, purple: persistent, grey: fading).",
)
widgets.table(pack.hotspot_overview, container=right)
st.subheader("Hotspots")
if not pack.hotspots:
    st.write("No new, rising or persistent hotspot touches the locality this quarter.")
for brief in pack.hotspots:
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(brief.heading)}**")
        st.markdown(escape_markdown(brief.summary))
        left, right = st.columns([1, 2])
        left.image(brief.map_png)
        if brief.chart_png:
            right.image(brief.chart_png, caption=brief.chart_caption)
        right.markdown("**Suggested tasking:** " + escape_markdown(brief.tasking))
        right.dataframe(brief.top_locations, hide_index=True, width="stretch")
        st.caption(escape_markdown(brief.evidence))
st.subheader("Measures showing special-cause variation")
for line in pack.measures or ["None: every measure shows common-cause variation."]:
    st.markdown(f"- {escape_markdown(line)}")
st.subheader("Top repeat locations")
widgets.table(pack.repeat_locations)
st.subheader("What each partner source shows")
widgets.table(pack.sources)
st.subheader("Tasking")
st.data_editor(
    pack.tasking, hide_index=True, width="stretch", key="lp_tasking", disabled=["Issue", "Evidence", "Suggested"]
)
st.subheader("Ward alert digest (Markdown, ready to paste into an email)")
st.code(pack.digest, language="markdown")
layout.licence_footer()
