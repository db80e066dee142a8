"""Performance measures: the community safety plan's scorecard, with statistical process control."""

import pandas as pd
import streamlit as st

from rc_dashboard import audit, config, explore, measures, scorecard
from rc_dashboard.access import small_numbers_rule
from rc_dashboard.coverage import data_up_to
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.export import to_csv_text
from rc_dashboard.reports.scorecard_pdf import scorecard_pdf
from rc_dashboard.services import measures as measure_service
from rc_dashboard.spc import DEFAULT_SHIFT_LENGTH
from rc_dashboard.ui import auth, cached, layout

SIGNALS_SHOWN = 5
RUN_RULES = (DEFAULT_SHIFT_LENGTH, 6)  # points in a shift (the default, 7, first); a radio of the two

principal = auth.page_principal("measures")
version = cached.data_version()
st.title("Performance measures")
layout.demo_banner(cached.is_demo(version))
try:
    register = cached.measure_register(version)
except measures.MeasureError as exc:
    st.error(escape_markdown(f"The measures register has a problem: {exc}"))
    st.stop()

months = cached.months_available(version)
if not months:
    st.info("No incidents are loaded yet, so no measure can be computed.")
    st.stop()
left, middle, right = st.columns(3)
as_of = left.selectbox("As of", list(reversed(months)), key="pm_as_of")
by_area = principal.can("measures_by_area")  # councillors: borough-wide measures only (no small areas)
localities = cached.distinct_values("locality", version) if by_area else []
locality = middle.selectbox(
    "Area",
    [None, *localities],
    format_func=lambda v: f"Whole {config.area_config().area_word}" if v is None else v,
    key="pm_locality",
)
shift = right.radio("Run rule", RUN_RULES, format_func=lambda n: f"{n} points", horizontal=True, key="pm_shift")
accept_partial = st.checkbox(
    "Accept a partly loaded baseline period",
    key="pm_partial_baseline",
    help="When some months of a measure's baseline period are not loaded, build the baseline from the loaded "
    "months, scaled to the whole period. Off: no baseline, target or RAG until the whole period is loaded.",
)
small_numbers = config.area_config().suppression_threshold if small_numbers_rule(principal) else None
inputs = (as_of, locality, int(shift), version, small_numbers, bool(accept_partial))  # of every figure below
results, table, sections = cached.scorecard_sections(*inputs, by_area)
no_baseline = [r for r in results if not r.measure.manual and r.baseline is None and r.series.notna().any()]
if no_baseline:
    st.info(
        f"{len(no_baseline)} incident measure{'s have' if len(no_baseline) != 1 else ' has'} no baseline yet: "
        "the baseline period is not wholly loaded, so they show GREY with no control limits. "
        + escape_markdown(explore.loaded_months_sentence(months, start=True))
        + ". Load the baseline months, or accept a partly loaded baseline above.",
        icon=":material/info:",
    )
if accept_partial:
    st.caption("A partly loaded baseline is accepted: such baselines are scaled from the loaded months and say so.")
notes = [] if small_numbers is None else [scorecard.rounding_note(small_numbers + 1)]
for priority, html in sections:
    st.subheader(escape_markdown(priority))
    st.html(html)
st.html(scorecard.key_html(notes))
left, right = st.columns(2)
with left:
    auth.download_button(
        principal,
        "Download scorecard (CSV)",
        lambda: to_csv_text(scorecard.csv_table(table)),
        f"scorecard_{as_of}.csv",
        "text/csv",
    )
with right:
    auth.download_button(
        principal,
        "Download scorecard (PDF)",
        lambda: scorecard_pdf(
            table,
            as_of,
            locality,
            data_up_to(cached.covered(version)),
            config.area_config().area_word,
            config.area_config().area_name,
            notes,
        ),
        f"scorecard_{as_of}.pdf",
        "application/pdf",
    )

st.subheader("One measure in detail")
names = [r.measure.name for r in results]
chosen = results[names.index(st.selectbox("Measure", names, key="pm_measure"))]
st.markdown(escape_markdown(chosen.note or chosen.sentence))
if chosen.chart is not None:
    st.plotly_chart(cached.measure_chart(*inputs, chosen.measure.id), width="stretch")
    latest_signals = chosen.signals[-SIGNALS_SHOWN:]
    if latest_signals:
        st.markdown(f"**Most recent special causes** ({len(chosen.signals)} in all):")
        for signal in reversed(latest_signals):
            st.markdown(f"- {escape_markdown(signal)}")

if principal.can("enter_values"):
    with st.expander("Enter values for survey and other non-incident measures"):
        manual_ids = [m.id for m in register.measures if m.manual]
        with st.form("manual_value"):
            measure_id = st.selectbox("Measure", manual_ids)
            period = st.text_input("Period (a month such as 2025-07, or a quarter such as 2025/26-Q2)")
            value = st.number_input("Value", value=0.0)
            note = st.text_input("Note (optional)")
            if st.form_submit_button("Save"):
                entered = pd.DataFrame(
                    [{"measure_id": measure_id, "period": period.strip(), "value": value, "note": note}]
                )
                try:
                    measure_service.save_manual_values(cached.engine(), entered, register, principal)
                    audit.record(cached.engine(), principal, "values_saved", {"measure": measure_id, "rows": 1})
                    st.success("Saved.")
                except measures.MeasureError as exc:
                    st.error(escape_markdown(exc))
        upload = st.file_uploader(
            "…or upload a CSV with columns measure_id, period, value[, note]", type=["csv", "xlsx"], key="pm_upload"
        )
        if upload is not None and st.button("Save uploaded values"):
            try:
                frame, notes = measure_service.read_manual_values(upload.getvalue(), upload.name)
                saved = measure_service.save_manual_values(cached.engine(), frame, register, principal)
                audit.record(cached.engine(), principal, "values_saved", {"file": upload.name, "rows": saved})
                st.success(f"Saved {saved:,} values.")
                for note in notes:
                    st.info(escape_markdown(note))
            except measures.MeasureError as exc:
                st.error(escape_markdown(exc))

if principal.can("edit_register"):
    with st.expander("Edit the measures register (YAML)"):
        text = st.text_area("Register", cached.measure_register_text(version), height=400, key="pm_register")
        if st.button("Check and save the register"):
            try:
                measure_service.save_register(cached.engine(), text, principal)
                audit.record(cached.engine(), principal, "register_saved", {"characters": len(text)})
                st.success("Saved: every user now sees this register.")
            except measures.MeasureError as exc:
                st.error(escape_markdown(exc))
layout.licence_footer()
