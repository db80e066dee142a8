"""Data: import files, check coverage, see where every row came from."""

import streamlit as st

from rc_dashboard import audit, config
from rc_dashboard.coverage import LOCATION_HEADERS
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.export import to_csv_text
from rc_dashboard.ingest.boundaries import BoundaryChangeRefused, preview_boundary_file
from rc_dashboard.ingest.kinds import KINDS, ImportOptions
from rc_dashboard.ingest.preview import dry_run
from rc_dashboard.ingest.validation import ImportRejected
from rc_dashboard.services.demo_loader import remove_demo
from rc_dashboard.setup import checklist
from rc_dashboard.ui import analyses, auth, cached, importing, layout, widgets

principal = auth.page_principal("import")
version = cached.data_version()
st.title("Data")
layout.demo_banner(cached.is_demo(version))
import_tab, coverage_tab, history_tab = st.tabs(["Import", "Coverage", "Import history"])

with import_tab:
    if cached.is_demo(version):
        with st.container(border=True):
            st.warning(
                "This database holds the fictional demo borough: files imported now would be mixed with it. "
                "To start on your own data, empty the demo first. After that the app asks everyone to sign in; "
                "create the first administrator on the server with `python -m rc_dashboard users add NAME --role admin`."
            )
            if st.checkbox("I understand: remove the demo borough", key="remove_demo_ok") and st.button(
                "Empty the database", type="primary"
            ):
                remove_demo(cached.engine())
                audit.record(cached.engine(), principal, "import", {"kind": "demo removed"})
                st.rerun()
    else:
        steps = checklist(cached.engine(), config.area_config())
        if not all(step.done for step in steps):
            with st.container(border=True):
                st.subheader("First-run checklist")
                st.caption("What this partnership has set up so far. Each missing step says how to do it.")
                for step in steps:
                    mark = ":green[done]" if step.done else ":red[missing]"
                    left, right = st.columns([4, 1])
                    left.markdown(
                        f"**{escape_markdown(step.name)}**: {mark}: {escape_markdown(step.detail)}"
                        + ("" if step.done else f". To do: {escape_markdown(step.how)}.")
                    )
                    if step.import_kind and step.import_kind in KINDS and not step.done:
                        right.button(
                            "Import now",
                            key=f"checklist_{step.import_kind}",
                            on_click=lambda kind=step.import_kind: st.session_state.update(import_kind=kind),
                        )
    kind_name = st.selectbox(
        "What are you importing?", list(KINDS), format_func=lambda name: KINDS[name].label, key="import_kind"
    )
    kind = KINDS[kind_name]
    files = importing.uploaded_files(kind)
    mapping = importing.mapping_editor(files) if kind.mapped else None
    if files and (mapping is not None or not kind.mapped):
        with st.spinner("Reading and validating…"):
            preview, report, rows_read = dry_run(cached.engine(), kind, files, mapping)
        st.subheader("First rows as they will be stored")
        st.dataframe(preview, hide_index=True, width="stretch")
        st.subheader("Validation")
        importing.validation_report(report, rows_read)
        replace, change = False, None
        if kind.name == "wards" and not report.rejected:
            change = preview_boundary_file(cached.engine(), files[0])
            if change is not None and change.wards_before:
                st.subheader("What these boundaries would change")
                for line in change.lines() or ["Nothing: the same wards and the same incident assignments."]:
                    st.write(escape_markdown(line))
                if change.needs_confirmation:
                    st.warning(
                        "These boundaries remove wards or move more than 5% of incidents to another ward. "
                        "The current wards are kept and can be restored (python -m rc_dashboard wards restore)."
                    )
                    replace = st.checkbox("Replace the loaded wards with these boundaries", key="wards_replace_ok")
                    if not replace:
                        st.caption("Tick the box above to allow the import.")
        blocked = kind.name == "wards" and not replace and change is not None and change.needs_confirmation
        if not report.rejected and not blocked and st.button("Import", type="primary"):
            with st.status("Importing…", expanded=True) as status:
                bar = st.progress(0.0, text="Starting")
                options = ImportOptions(
                    imported_by=principal.username,
                    progress=lambda f, m: bar.progress(f, text=m),
                    mapping=mapping,
                    replace=replace,
                )
                try:
                    results = kind.run(cached.engine(), files, options)
                except ImportRejected as exc:
                    status.update(label="Nothing was imported", state="error")
                    importing.validation_report(exc.report, rows_read)
                except BoundaryChangeRefused as exc:  # the loaded wards changed since the preview
                    status.update(label="Nothing was imported", state="error")
                    st.error(escape_markdown(exc))
                else:
                    bar.progress(1.0, text="Done")
                    for result in results:
                        audit.record(
                            cached.engine(),
                            principal,
                            "import",
                            {"kind": kind.name, "files": [f.name for f in files], "import_id": result.import_id},
                        )
                        importing.import_outcome(result)
                    analyses.store_defaults(cached.engine())
                    status.update(label="Import complete", state="complete")

with coverage_tab:
    grid = cached.coverage_grid(version)
    if grid.empty:
        st.info("No data yet: the coverage grid appears after the first import.")
    else:
        st.caption(
            "Rows in the area per month from each feed. A red cross marks a month the feed does not cover: it is "
            "missing (never loaded), shown as a gap and left out of every comparison. A covered month with no rows "
            "is a true zero. A police.uk file covers its month; a partner file the period stated at import."
        )
        heatmap, gaps = cached.coverage_view(version)
        st.plotly_chart(heatmap, width="stretch")
        auth.download_button(
            principal,
            "Download the coverage grid (CSV)",
            lambda: to_csv_text(grid.rename_axis("feed").reset_index()),
            "coverage_grid.csv",
            "text/csv",
        )
        for sentence in gaps:
            st.warning(escape_markdown(sentence))
        st.subheader("In the area, outside it, and with no location")
        st.caption(
            "police.uk files are published per force, so they hold crimes outside the partnership's wards "
            "(outside the area) and crimes with no location that cannot be placed (no location, force-wide file): "
            "both are stored but left out of every figure. A partner's own incidents with no location stay in totals."
        )
        widgets.table(cached.location_completeness(version), LOCATION_HEADERS)
    lookup = cached.lsoa_wards(version)
    if len(lookup):
        st.subheader("LSOA to ward lookup, for checking")
        st.caption(
            "Used to place partner rows that carry only an LSOA code and to sum LSOA populations to wards. "
            "'lookup file': from an ONS best-fit lookup; 'largest overlap': derived from the LSOA and ward boundaries "
            "(each LSOA goes to the ward holding most of its area)."
        )
        widgets.table(lookup)

with history_tab:
    history = cached.import_history(version)
    if history.empty:
        st.info("Nothing has been imported yet.")
    else:
        widgets.table(history, {"id": "Import", "sha256": "File SHA-256"}, times=("imported_at",))
        auth.download_button(
            principal,
            "Download the import history (CSV)",
            lambda: to_csv_text(history),
            "import_history.csv",
            "text/csv",
        )

layout.licence_footer()
