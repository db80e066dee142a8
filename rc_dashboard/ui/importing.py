"""Widgets of the Data page's import form: file uploads, the mapping editor, the validation report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from rc_dashboard.config import config_dir
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.ingest.files import MAX_FILE_BYTES, InputFile
from rc_dashboard.ingest.kinds import ImportKind
from rc_dashboard.ingest.partner import MappingError, PartnerMapping
from rc_dashboard.ingest.store import ImportResult
from rc_dashboard.ingest.tables import read_table
from rc_dashboard.ingest.validation import ValidationReport


def uploaded_files(kind: ImportKind) -> list[InputFile]:
    """The files the user chose, as bytes; oversized ones are refused with a message."""
    chosen = st.file_uploader(
        "Files", type=list(kind.upload_types), accept_multiple_files=kind.many_files, key=f"upload_{kind.name}"
    )
    if not chosen:
        return []
    chosen = chosen if isinstance(chosen, list) else [chosen]
    files = []
    for upload in chosen:
        if upload.size > MAX_FILE_BYTES:
            st.error(
                f"{escape_markdown(upload.name)} is {upload.size / 1024**2:,.0f} MiB, over the {MAX_FILE_BYTES / 1024**2:,.0f} MiB limit; it was not read."
            )
            continue
        files.append(InputFile(upload.name, upload.getvalue()))
    return files


def example_mappings() -> dict[str, str]:
    folder = config_dir() / "mappings"
    return {
        path.stem.replace("_", " "): path.read_text(encoding="utf-8") for path in sorted(Path(folder).glob("*.yaml"))
    }


def mapping_editor(files: list[InputFile]) -> PartnerMapping | None:
    """Pick an example mapping, edit it against the uploaded file's columns, get a validated mapping."""
    examples = example_mappings()
    start = st.selectbox("Start from", list(examples) or ["(none)"], key="mapping_example")
    uploaded = st.file_uploader("…or upload a mapping (YAML)", type=["yaml", "yml"], key="mapping_upload")
    initial = uploaded.getvalue().decode("utf-8", errors="replace") if uploaded else examples.get(start, "")
    text = st.text_area(
        "Column mapping (YAML)", value=initial, height=320, key=f"mapping_text_{start}_{bool(uploaded)}"
    )
    st.download_button("Download this mapping", text, file_name="mapping.yaml", mime="text/yaml")
    try:
        mapping = PartnerMapping.from_yaml(text)
    except MappingError as exc:
        st.error(escape_markdown(exc))
        return None
    if files and not files[0].name.lower().endswith(".zip"):
        report = ValidationReport()
        table = read_table(files[0].data, files[0].name, report, mapping.sheet)
        if table is not None:
            st.caption(
                f"Columns in {escape_markdown(files[0].name)}: " + ", ".join(escape_markdown(c) for c in table.columns)
            )
            missing = [c for c in mapping.columns_used() if c not in table.columns]
            if missing:
                st.warning(
                    "The mapping names columns this file does not have: " + ", ".join(map(escape_markdown, missing))
                )
            else:
                from rc_dashboard.ingest.preview import category_values

                values = category_values(table, mapping)
                unmapped = values["maps_to"].isna()
                st.markdown(
                    f"**Category values in the file** ({int(unmapped.sum())} not mapped; their rows will be dropped and counted)"
                )
                st.dataframe(values, hide_index=True, width="stretch")
    return mapping


def validation_report(report: ValidationReport, rows_read: int) -> None:
    """Every problem with file, row, column and reason; the policy applied, in plain words."""
    if report.rejected:
        st.error("This import would be **rejected**: nothing will be written until these are fixed.")
    dropped = report.rows_dropped
    notes = sum(n for (action, _), n in report.counts.items() if action == "note")
    st.write(f"{rows_read:,} rows read; {dropped:,} would be dropped; {notes:,} notes.")
    if report.counts:
        summary = pd.DataFrame(
            [(action, reason, n) for (action, reason), n in sorted(report.counts.items())],
            columns=["action", "rule", "rows"],
        )
        st.dataframe(summary, hide_index=True, width="stretch")
        with st.expander(f"First problems, row by row ({len(report.problems)} listed)"):
            st.dataframe(report.as_frame(), hide_index=True, width="stretch")
    else:
        st.success("No problems found.")


def import_outcome(result: ImportResult) -> None:
    st.success(escape_markdown(result.sentence()))
    for reason, number in sorted(result.dropped_by_reason.items()):
        st.write(f"Dropped {number:,}: {escape_markdown(reason)}")
    for note in result.notes:
        st.caption(escape_markdown(note))
