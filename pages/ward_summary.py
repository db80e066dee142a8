"""Ward summary: a councillor's quarterly view of their ward, with small numbers suppressed."""

import streamlit as st

from rc_dashboard import config
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.export import to_csv_text
from rc_dashboard.formatting import suppressed_or_count
from rc_dashboard.paths import safe_file_part
from rc_dashboard.reports.service import ReportError
from rc_dashboard.reports.suppression import explain
from rc_dashboard.reports.ward_pdf import summaries_pdf
from rc_dashboard.reports.ward_summary import hotspot_table, to_markdown
from rc_dashboard.ui import analyses, auth, cached, layout

principal = auth.page_principal("ward_summary")
version = cached.data_version()
st.title("Ward summary")
layout.demo_banner(cached.is_demo(version))
quarters = cached.complete_quarters(version)
wards = cached.wards_table(version)
if not quarters or wards.empty:
    layout.stop_without_a_quarter("Ward summaries need ward boundaries", cached.months_available(version))

left, right = st.columns(2)
ward = left.selectbox(
    "Ward",
    list(wards["ward_code"]),
    format_func=dict(zip(wards["ward_code"], wards["ward_name"], strict=True)).get,
    key="ws_ward",
)
quarter = layout.quarter_picker(right, quarters, "ws_quarter")
with (
    layout.stop_on(ReportError),
    analyses.being_computed_notice(cached.engine(), ("ward_summaries", "hotspots")),
    st.spinner("Preparing the quarter's summaries…"),
):
    summaries = cached.ward_summaries(quarter, version)[0]
summary = summaries[ward]
explanation = explain(config.area_config().suppression_threshold)

st.header(escape_markdown(f"{summary.ward_name}: {summary.quarter_months}"))
st.markdown(escape_markdown(summary.narrative))
if summary.narrative_detail:
    st.caption(escape_markdown(summary.narrative_detail))
first, second, third = st.columns(3)
first.metric("Incidents this quarter", suppressed_or_count(summary.total, summary.threshold))
second.metric("Per 1,000 residents", "-" if summary.rate_per_1000 is None else f"{summary.rate_per_1000:.1f}")
third.metric(
    "Rank among wards (1 = highest rate)", "-" if summary.rank is None else f"{summary.rank} of {summary.n_wards}"
)

table = summary.categories.copy()
covered_columns = {
    "count": True,
    "previous_quarter": summary.previous_covered,
    "same_quarter_last_year": summary.last_year_covered,
}
for column, covered in covered_columns.items():  # a quarter never loaded is "not available", not suppressed
    table[column] = table[column].map(lambda v, covered=covered: suppressed_or_count(v, summary.threshold, covered))
table = table.drop(columns="suppressed").rename(
    columns={
        "category": "Category",
        "count": "This quarter",
        "previous_quarter": "Previous quarter",
        "same_quarter_last_year": "Same quarter last year",
        "vs_previous_quarter": "Against previous",
        "vs_same_quarter_last_year": "Against last year",
    }
)
st.dataframe(table.fillna("not shown"), hide_index=True, width="stretch")
auth.download_button(
    principal,
    "Download this table (CSV)",
    lambda: to_csv_text(table.fillna("not shown")),
    f"{safe_file_part(ward)}_{safe_file_part(quarter)}_categories.csv",
    "text/csv",
)
st.caption(
    "'Higher' and 'lower' mean an exact Poisson comparison found a real change (5% level); otherwise 'similar'. "
    + escape_markdown(explanation)
)

map_png = cached.ward_map(ward, quarter, version)
left, right = st.columns([2, 3])
with left:
    st.image(
        map_png,
        caption="The ward (blue), its neighbours and its hotspots (red: new, orange: rising, purple: persistent, grey: fading).",
    )
with right:
    if summary.hotspots:
        st.dataframe(hotspot_table(summary), hide_index=True, width="stretch")
    else:
        st.write("No hotspot areas in this ward.")
    for note in summary.quality_notes:
        st.warning(escape_markdown(note))
left, right = st.columns(2)
with left:
    auth.download_button(
        principal,
        "Download (Markdown)",
        lambda: to_markdown(summary, explanation),
        f"{safe_file_part(ward)}_{safe_file_part(quarter)}.md",
        "text/markdown",
    )
with right:
    auth.download_button(
        principal,
        "Download (PDF)",
        lambda: summaries_pdf([(summary, map_png)], explanation),
        f"{safe_file_part(ward)}_{safe_file_part(quarter)}.pdf",
        "application/pdf",
    )
layout.licence_footer()
