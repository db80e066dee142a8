"""The command line: ``python -m rc_dashboard COMMAND ...``.

Every command takes ``--db URL`` (default: ``RC_DATABASE_URL`` or the embedded SQLite file).
User mistakes print one sentence to stderr and exit 2; no tracebacks.
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rc_dashboard import audit, config
from rc_dashboard.access import roles, system_principal
from rc_dashboard.db import DatabaseError, connect
from rc_dashboard.export import to_csv_text
from rc_dashboard.hotspots.defaults import (
    DEFAULT_ALPHA,
    DEFAULT_CELL_M,
    DEFAULT_DISTANCE_M,
    DEFAULT_MAX_RADIUS_M,
    DEFAULT_MAX_WINDOW_MONTHS,
    DEFAULT_PERMUTATIONS,
    DEFAULT_RECENT_MONTHS,
    DEFAULT_SCAN_CELL_M,
    DEFAULT_SEED,
)
from rc_dashboard.ingest.kinds import KINDS, ImportOptions
from rc_dashboard.ingest.validation import ImportRejected
from rc_dashboard.queries import IncidentFilter, incident_counts
from rc_dashboard.terminal import raw_stream, safe_standard_streams, strip_control

if TYPE_CHECKING:  # imported where used, so a command loads only what it needs
    from rc_dashboard.ingest.files import InputFile
    from rc_dashboard.ingest.partner import PartnerMapping
    from rc_dashboard.ingest.validation import ValidationReport

EXIT_USER_ERROR = 2
DEFAULT_SERVE_ADDRESS = "127.0.0.1"  # behind the reverse proxy (deploy/nginx.conf), which adds the security headers
CLI_USER = "command line"  # imports.imported_by for files loaded from the shell


class CliError(Exception):
    """A user mistake: printed as one sentence, exit status 2."""


_progress_open = {"line": False}


def _end_progress_line() -> None:
    if _progress_open["line"]:
        sys.stderr.write("\n")
        _progress_open["line"] = False


def _progress_line(fraction: float, message: str) -> None:
    """A single updating progress line on stderr (a terminal sees it redraw in place)."""
    end = "\n" if fraction >= 1.0 else ""
    _progress_open["line"] = fraction < 1.0
    stream = raw_stream(sys.stderr)  # the one writer allowed a carriage return; the message is cleaned here
    stream.write(f"\r[{fraction * 100:5.1f}%] {strip_control(message):<60}{end}")
    stream.flush()


def _json_ready(value: object) -> object:
    """`value` with NaN and infinities as null (JSON has neither) and numpy scalars as Python ones."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    import numpy as np

    if isinstance(value, list | tuple | np.ndarray):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(value: object) -> None:
    """Strict JSON on stdout: missing numbers are null, never the bare NaN that JSON parsers reject."""
    print(json.dumps(_json_ready(value), indent=1, allow_nan=False, default=str))


def cmd_demo(args: argparse.Namespace) -> int:
    from rc_dashboard.services.demo_loader import build_demo_database

    engine = connect(args.db)
    from rc_dashboard.db import has_incidents

    if has_incidents(engine) and not args.force:
        raise CliError(
            "The database already holds incidents; pass --force to add the demo borough anyway, or use an empty --db."
        )
    started = time.perf_counter()
    results = build_demo_database(engine, config.data_dir(), scale=args.scale, progress=_progress_line)
    for result in results:
        print(result.sentence())
    print(f"Demo borough built in {time.perf_counter() - started:.1f} s; planted truth saved in {config.data_dir()}.")
    if not args.no_analyses:
        _store_analyses(engine)
    return 0


def cmd_counts(args: argparse.Namespace) -> int:
    by = [part.strip() for part in args.by.split(",") if part.strip()]
    try:
        flt = IncidentFilter(
            month_from=args.month_from, month_to=args.month_to, include_outside=bool(args.include_outside)
        )
        frame = incident_counts(connect(args.db), by, flt)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if args.format == "json":
        print_json(frame.to_dict("records"))
    else:
        sys.stdout.write(to_csv_text(frame))
    return 0


MAX_PROBLEMS_PRINTED = 30


def _print_result(result) -> None:
    print(result.sentence())
    for reason, number in sorted(result.dropped_by_reason.items()):
        print(f"  dropped {number:,}: {reason}")
    for note in result.notes:
        print(f"  note: {note}")


def cmd_import(args: argparse.Namespace) -> int:
    from rc_dashboard.ingest.boundaries import BoundaryChangeRefused
    from rc_dashboard.ingest.validation import ValidationReport

    kind = KINDS[args.kind]
    engine = connect(args.db)
    report = ValidationReport()
    inputs = _import_inputs(args.paths, kind.suffixes, report)
    if report.rejected:
        raise ImportRejected(report)
    if args.kind == "population" and args.lookup:
        _print_result(KINDS["lookup"].run(engine, [_one_csv(args.lookup)], ImportOptions(imported_by=CLI_USER))[0])
    if args.covers and not kind.mapped:
        raise CliError(
            "--covers states the period of a partner file: use it with 'import incidents' or 'import counts'."
        )
    options = ImportOptions(
        imported_by=CLI_USER,
        progress=_progress_line,
        mapping=_read_mapping(args) if kind.mapped else None,
        covers=_covers(args.covers) if args.covers else None,
        replace=args.replace,
        code_field=args.code_field,
        name_field=args.name_field,
        lad=args.lad,
        lad_lookup=_one_csv(args.lad_lookup) if args.lad_lookup else None,
    )
    try:
        results = kind.run(engine, inputs, options)
    except BoundaryChangeRefused as exc:
        raise CliError(str(exc)) from exc
    for result in results:
        _print_result(result)
        audit.record(
            engine, system_principal(), "import", {"kind": args.kind, "file": result.file_name, "via": "command line"}
        )
    if not args.no_analyses:
        _store_analyses(engine)
    return 0


NO_ANALYSES_HELP = (
    "do not compute the default analyses afterwards (the first page or command to need each computes it)"
)


def _store_analyses(engine) -> None:
    """The default analyses for the new data, computed once here so no reader waits (see rc_dashboard.stored)."""
    from rc_dashboard.stored import compute_defaults

    started = time.perf_counter()
    lines = compute_defaults(engine, progress=_progress_line)
    _end_progress_line()
    for line in lines:
        print(f"  analyses: {line}")
    print(f"Default analyses stored in {time.perf_counter() - started:.1f} s.")


def cmd_analyses(args: argparse.Namespace) -> int:
    engine = connect(args.db)
    if not args.list:
        _store_analyses(engine)
        return 0
    from rc_dashboard.results import stored

    table = stored(engine).drop(columns=["inputs"])
    sys.stdout.write(to_csv_text(table))
    return 0


def _import_inputs(paths: list[str], suffixes: tuple[str, ...] | None, report: ValidationReport) -> list[InputFile]:
    """The files named: folders and zips searched for ``suffixes``; boundary files (None) read whole."""
    from pathlib import Path

    from rc_dashboard.ingest.files import InputFile, files_from_paths

    if suffixes is not None:
        return files_from_paths(paths, report, suffixes)
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise CliError(f"No such file: {missing[0]}.")
    return [InputFile(str(p), Path(p).read_bytes()) for p in paths]


def _one_csv(path: str) -> InputFile:
    """A CSV named by an option (a lookup read with the main file); refused if it is not there."""
    from rc_dashboard.ingest.files import files_from_paths
    from rc_dashboard.ingest.validation import ValidationReport

    report = ValidationReport()
    files = files_from_paths([path], report, (".csv",))
    if report.rejected or not files:
        raise ImportRejected(report)
    return files[0]


def _read_mapping(args: argparse.Namespace) -> PartnerMapping:
    """The partner column mapping named by ``--mapping`` (required for partner files)."""
    from rc_dashboard.ingest.partner import MappingError, PartnerMapping

    if not args.mapping:
        raise CliError(f"'import {args.kind}' needs --mapping FILE.yaml (see config/mappings/ for examples).")
    try:
        with open(args.mapping, encoding="utf-8") as handle:
            return PartnerMapping.from_yaml(handle.read())
    except OSError as exc:
        raise CliError(f"Cannot read the mapping file {args.mapping}: {exc.strerror}.") from exc
    except MappingError as exc:
        raise CliError(f"{args.mapping}: {exc}") from exc


def cmd_wards(args: argparse.Namespace) -> int:
    """List the ward sets boundary imports replaced, or put one back."""
    from rc_dashboard.ingest.boundaries import restore_ward_set, ward_set_history

    engine = connect(args.db)
    if args.action == "history":
        history = ward_set_history(engine)
        if history.empty:
            print("No ward set has been replaced yet.")
        for row in history.itertuples(index=False):
            print(f"{row.id}: {row.wards} wards, replaced {row.replaced_at} by {row.replaced_by or 'unknown'}")
        return 0
    if args.set_id is None:
        raise CliError("Give the id of the ward set to restore (python -m rc_dashboard wards history lists them).")
    try:
        result = restore_ward_set(engine, args.set_id, imported_by=CLI_USER)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    _print_result(result)
    audit.record(engine, system_principal(), "import", {"kind": "wards", "restored_set": args.set_id})
    return 0


def _covers(text: str) -> tuple[str, str]:
    """ "2025-04:2026-03" (or one month) -> (first, last); the importer checks the months themselves."""
    first, _, last = text.partition(":")
    return first.strip(), (last or first).strip()


def cmd_hotspots(args: argparse.Namespace) -> int:
    from rc_dashboard.hotspots.analysis import HOTSPOT_FIELDS, HotspotParams, hotspot_records
    from rc_dashboard.services.hotspots import NotEnoughData, run_analysis, run_backtest

    try:
        if args.to and args.as_of and args.to != args.as_of:
            raise CliError("--to and --as-of name the same month; give one of them.")
        flt = IncidentFilter(
            month_from=args.date_from,
            month_to=args.to or args.as_of,
            categories=tuple(args.category or ()),
            sources=tuple(args.source or ()),
        )
        params = HotspotParams(
            cell_m=args.cell_m,
            distance_m=args.distance_m,
            recent_months=args.recent_months,
            alpha=args.alpha,
            scan_cell_m=args.scan_cell_m,
            max_radius_m=args.max_radius_m,
            max_window_months=args.max_window_months,
            permutations=args.permutations,
            seed=args.seed,
        )
        weighting = "harm" if args.harm else "count"
        analysis = run_analysis(connect(args.db), flt, params, system_principal(), weighting)
        summary = run_backtest(connect(args.db), flt, params, system_principal(), weighting) if args.backtest else None
    except (ValueError, NotEnoughData) as exc:
        raise CliError(str(exc)) from exc
    records = hotspot_records(analysis.hotspots)
    if args.format == "json":
        print_json(records)
    else:
        import pandas as pd

        table = pd.DataFrame(records, columns=HOTSPOT_FIELDS)
        for column in ("sources", "wards"):
            table[column] = table[column].map(lambda s: ";".join(s) if isinstance(s, list) else s)
        sys.stdout.write(to_csv_text(table))
    print(analysis.scan_sentence(), file=sys.stderr)
    print(analysis.budget_sentence, file=sys.stderr)
    if summary is not None:
        print(summary.sentence(), file=sys.stderr)
    return 0


def cmd_measures(args: argparse.Namespace) -> int:
    from rc_dashboard import measures, queries
    from rc_dashboard.queries import months_available
    from rc_dashboard.services.measures import scorecard_results

    engine = connect(args.db)
    try:
        measures.parse_register(queries.register_text(engine))
    except measures.MeasureError as exc:
        raise CliError(f"The measures register has a problem: {exc}") from exc
    months = months_available(engine)
    if not months:
        raise CliError("No incidents are loaded, so no measure can be computed.")
    as_of = args.as_of or months[-1]
    try:  # stored: the import stores the newest month's for the whole area
        results = scorecard_results(
            engine, as_of, args.locality, accept_partial_baseline=bool(args.accept_partial_baseline)
        )
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    records = [
        {
            "id": r.measure.id,
            "name": r.measure.name,
            "priority": r.measure.priority,
            "as_of": as_of,
            "baseline": r.baseline,
            "latest": r.latest,
            "change_pct": r.change_pct,
            "target": r.target,
            "projected": r.projected,
            "rag": r.rag,
            "variation": r.variation,
            "assurance": r.assurance,
            "signals": r.signals,
            "baseline_status": "covered" if r.baseline is not None else "not covered",
            "sentence": r.note or r.sentence,
        }
        for r in results
    ]
    print_json(records)
    return 0


def _hotspot_count(briefs) -> str:
    """"3 emerging (new or rising) and 4 persistent hotspots": a persistent place is never called emerging."""
    emerging = sum(1 for b in briefs if b.flag in ("new", "rising"))
    persistent = len(briefs) - emerging
    return f"{emerging} emerging (new or rising) and {persistent} persistent hotspot{'s' if persistent != 1 else ''}"


def cmd_summary(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rc_dashboard import stored
    from rc_dashboard.geography import wards_from_db
    from rc_dashboard.paths import UnsafePath, path_inside, safe_file_part
    from rc_dashboard.periods import FinancialQuarter
    from rc_dashboard.reports.service import ReportError, ward_map
    from rc_dashboard.reports.suppression import explain
    from rc_dashboard.reports.ward_pdf import summaries_pdf
    from rc_dashboard.reports.ward_summary import to_markdown

    if bool(args.ward) == bool(args.all):
        raise CliError("Give either --ward CODE or --all (with --out DIR).")
    if args.all and not args.out:
        raise CliError("--all writes one file per ward: give --out DIR.")
    engine = connect(args.db)
    try:
        quarter = FinancialQuarter.parse(args.quarter)
        threshold = config.area_config().suppression_threshold
        every_ward, hotspots = stored.ward_summaries(engine, quarter)  # suppressed jointly across wards
        if args.ward and args.ward not in every_ward:
            raise ReportError(f"{args.ward} is not a loaded ward code.")
        summaries = every_ward if args.all else {args.ward: every_ward[args.ward]}
        maps = stored.ward_maps(engine, quarter) if args.all else {}  # the import stores the newest quarter's
    except (ValueError, ReportError) as exc:
        raise CliError(str(exc)) from exc
    explanation = explain(threshold)
    if args.all:
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        wards = wards_from_db(engine)
        for number, (code, summary) in enumerate(summaries.items(), start=1):
            _progress_line(number / len(summaries), f"Writing {safe_file_part(code)}")
            try:  # file names only from sanitised parts, checked to stay inside the folder
                markdown_path = path_inside(folder, code, quarter.label, suffix=".md")
                pdf_path = path_inside(folder, code, quarter.label, suffix=".pdf")
            except UnsafePath as exc:
                raise CliError(str(exc)) from exc
            markdown_path.write_text(to_markdown(summary, explanation), encoding="utf-8")
            picture = maps[code] if code in maps else ward_map(wards, code, hotspots)  # none stored: drawn now
            pdf = summaries_pdf([(summary, picture)], explanation)
            pdf_path.write_bytes(pdf)
        print(f"Wrote {len(summaries)} ward summaries (Markdown and PDF) for {quarter.label} to {folder}.")
        return 0
    summary = summaries[args.ward]
    if args.format == "md":
        sys.stdout.write(to_markdown(summary, explanation))
    else:
        print_json(summary.as_json())
    return 0


def cmd_pack(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rc_dashboard import stored
    from rc_dashboard.periods import FinancialQuarter
    from rc_dashboard.reports.pack_render import pack_html, pack_pdf
    from rc_dashboard.reports.service import ReportError

    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".html", ".htm"):
        raise CliError("--out must end in .pdf or .html.")
    try:
        _progress_line(0.1, f"Building the {args.locality} pack")
        quarter = FinancialQuarter.parse(args.quarter)
        pack = stored.locality_pack(connect(args.db), args.locality, quarter, system_principal())
    except (ValueError, ReportError) as exc:
        raise CliError(str(exc)) from exc
    _progress_line(0.8, f"Writing {out.name}")
    if out.suffix.lower() == ".pdf":
        out.write_bytes(pack_pdf(pack))
    else:
        out.write_text(pack_html(pack), encoding="utf-8")
    _progress_line(1.0, "Done")
    print(
        f"Wrote the {pack.locality} locality pack for {pack.quarter} to {out} ({_hotspot_count(pack.hotspots)}, "
        f"{len(pack.tasking)} tasking items)."
    )
    return 0


def _read_new_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat it: "):
        raise CliError("The two passwords differ; nothing was changed.")
    return first


def _check_locality(args: argparse.Namespace) -> None:
    """A locality lead's locality must be one the database knows (once localities are loaded)."""
    if not args.locality:
        return
    from rc_dashboard.queries import distinct_values

    try:
        known = distinct_values(connect(args.db), "locality")
    except DatabaseError:
        return  # no database yet: the locality cannot be checked
    if known and args.locality not in known:
        raise CliError(f"'{args.locality}' is not a loaded locality; localities are {', '.join(known)}.")


def cmd_users(args: argparse.Namespace) -> int:
    """Manage the local users file (sign-in without single sign-on, and roles for everyone)."""
    from rc_dashboard import users as accounts

    path = accounts.users_file()
    current = accounts.load_users(path)
    try:
        if args.action == "list":
            if not current:
                print(f"No users in {path}.")
            for user in current.values():
                how = "password" if user.password_hash else "single sign-on"
                where = f", {user.locality}" if user.locality else ""
                print(f"{user.username}\t{user.role}{where}\t{user.name}\t({how})")
            return 0
        if args.action == "add":
            _check_locality(args)
            password = None if args.sso else _read_new_password(args)
            updated = accounts.add_user(
                current, args.username, args.role, name=args.name or "", locality=args.locality, password=password
            )
        elif args.action == "remove":
            updated = accounts.remove_user(current, args.username)
        else:
            updated = accounts.set_password(current, args.username, _read_new_password(args))
    except accounts.UserError as exc:
        raise CliError(str(exc)) from exc
    accounts.save_users(updated, path)
    detail = {"change": args.action, "user": args.username.lower(), "role": getattr(args, "role", None)}
    try:
        engine = connect(args.db)
        audit.record(engine, system_principal(), "users_changed", detail)
        if args.action == "passwd":  # a new password clears the lock from failed sign-ins
            audit.record(engine, None, "unlocked", {"by": "command line"}, username=args.username.lower())
    except DatabaseError as exc:
        print(f"Warning: the change is saved but could not be written to the audit log: {exc}", file=sys.stderr)
    print(f"{args.action}: {args.username.lower()} (users file {path}).")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the app with production settings (after checking them), replacing this process."""
    import os
    from pathlib import Path

    from rc_dashboard import deploy
    from rc_dashboard import users as accounts

    secrets_path = Path(os.environ.get("RC_SECRETS_FILE", config.PROJECT_ROOT / ".streamlit" / "secrets.toml"))
    try:
        secrets = deploy.read_secrets(secrets_path)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    plan = deploy.plan_production(
        secrets,
        secrets_path,
        database_url=config.database_url(args.db),
        default_database_url=config.database_url_default(),
        users_count=len(accounts.load_users()),
    )
    for warning in plan.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    if plan.blocking:
        raise CliError("not starting in production mode. " + " ".join(plan.blocking))
    if args.check:
        print("Production settings are in order: error details hidden, XSRF protection on, fixed cookie secret.")
        return 0
    environment = {**os.environ, **plan.environment}
    if args.db:
        environment["RC_DATABASE_URL"] = args.db
    command = [sys.executable, "-m", "rc_dashboard.ui.launch", str(config.PROJECT_ROOT / "app.py")]
    command += ["--server.port", str(args.port), "--server.address", args.address, "--secrets.files", str(secrets_path)]
    print(f"Starting RC Dashboard in production mode on {args.address}:{args.port}.", flush=True)
    os.execvpe(sys.executable, command, environment)
    return 0  # not reached: exec replaces the process


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: one ``_add_*_command`` per command, each with the shared ``--db`` option."""
    parser = argparse.ArgumentParser(prog="python -m rc_dashboard", description="RC Dashboard command line.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="SQLAlchemy database URL (default: RC_DATABASE_URL or data/rc_dashboard.sqlite)")
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (
        _add_demo_command,
        _add_import_command,
        _add_analyses_command,
        _add_wards_command,
        _add_hotspots_command,
        _add_measures_command,
        _add_summary_command,
        _add_pack_command,
        _add_counts_command,
        _add_serve_command,
        _add_users_command,
    ):
        add(commands, common)
    return parser


def _add_demo_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``demo``: build the fictional borough through the real import path."""
    demo = commands.add_parser("demo", parents=[common], help="build the demo borough database")
    demo.add_argument("--scale", type=float, default=1.0, help="volume multiplier (10 gives about a million incidents)")
    demo.add_argument("--force", action="store_true", help="build even if the database already holds incidents")
    demo.add_argument("--no-analyses", action="store_true", help=NO_ANALYSES_HELP)
    demo.set_defaults(handler=cmd_demo)


def _add_import_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``import KIND PATHS``: one kind from the register in :mod:`rc_dashboard.ingest.kinds`."""
    importing = commands.add_parser(
        "import", parents=[common], help="import police.uk files, partner logs, boundaries, lookups"
    )
    importing.add_argument("kind", choices=list(KINDS))
    importing.add_argument("paths", nargs="+", help="files, folders or zip archives")
    importing.add_argument("--mapping", help="YAML column mapping for partner incidents or counts")
    importing.add_argument("--code-field", help="ward code field in the boundaries (default: detected, e.g. WD25CD)")
    importing.add_argument("--name-field", help="ward name field in the boundaries (default: detected, e.g. WD25NM)")
    importing.add_argument("--lookup", help="LSOA to ward lookup CSV to import first (population by LSOA)")
    importing.add_argument(
        "--replace",
        action="store_true",
        help="wards: allow boundaries that remove wards or move over 5%% of incidents (the old set is kept)",
    )
    importing.add_argument(
        "--lad",
        help="with 'import wards': keep only this local authority's wards (e.g. E08000034) from a national file",
    )
    importing.add_argument(
        "--lad-lookup",
        help="with 'import wards --lad': ONS ward-to-local-authority lookup CSV, for files without a LAD field",
    )
    importing.add_argument(
        "--covers",
        metavar="FIRST:LAST",
        help="months a partner file covers, e.g. 2025-04:2026-03 (a month in it with no rows is a true zero); "
        "default: its first to its last month with rows",
    )
    importing.add_argument("--no-analyses", action="store_true", help=NO_ANALYSES_HELP)
    importing.set_defaults(handler=cmd_import)



def _add_analyses_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``analyses``: compute the stored default analyses, or list them."""
    analyses = commands.add_parser(
        "analyses", parents=[common], help="compute the stored default analyses now, or list what is stored"
    )
    analyses.add_argument("--list", action="store_true", help="list the stored results instead of computing")
    analyses.set_defaults(handler=cmd_analyses)


def _add_wards_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``wards history|restore``: ward sets that boundary imports replaced."""
    ward_sets = commands.add_parser("wards", parents=[common], help="ward sets replaced by boundary imports")
    ward_sets.add_argument("action", choices=["history", "restore"])
    ward_sets.add_argument("set_id", nargs="?", type=int, help="for restore: the kept set's id (see 'wards history')")
    ward_sets.set_defaults(handler=cmd_wards)


def _add_hotspots_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``hotspots``: the scan and EHSA, every parameter defaulting to :mod:`rc_dashboard.hotspots.defaults`."""
    hotspots = commands.add_parser("hotspots", parents=[common], help="emerging hotspot areas with their evidence")
    hotspots.add_argument(
        "--as-of", help="last month to analyse, YYYY-MM (default: the latest month every selected feed covers)"
    )
    hotspots.add_argument("--from", dest="date_from", help="first month of the history, YYYY-MM (default: all loaded)")
    hotspots.add_argument("--to", help="the same as --as-of")
    hotspots.add_argument("--category", action="append", help="limit to a category (repeat for several)")
    hotspots.add_argument(
        "--source", action="append", help="limit to a source, e.g. police (repeat for several: shared hotspots)"
    )
    hotspots.add_argument("--harm", action="store_true", help="weight incidents by harm (config/harm.yaml)")
    hotspots.add_argument(
        "--cell-m", type=float, default=DEFAULT_CELL_M, help="EHSA grid square size in metres (default %(default)g)"
    )
    hotspots.add_argument(
        "--distance-m", type=float, default=DEFAULT_DISTANCE_M, help="Gi* neighbourhood distance in metres (default %(default)g)"
    )
    hotspots.add_argument(
        "--recent-months", type=int, default=DEFAULT_RECENT_MONTHS, help="EHSA areas' recent window in months (default %(default)d)"
    )
    hotspots.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="significance level (default %(default)g)")
    hotspots.add_argument(
        "--scan-cell-m", type=float, default=DEFAULT_SCAN_CELL_M, help="the scan's square size in metres (default %(default)g)"
    )
    hotspots.add_argument(
        "--max-radius-m", type=float, default=DEFAULT_MAX_RADIUS_M, help="the scan's largest radius in metres (default %(default)g)"
    )
    hotspots.add_argument(
        "--max-window-months", type=int, default=DEFAULT_MAX_WINDOW_MONTHS, help="the scan's longest window in months (default %(default)d)"
    )
    hotspots.add_argument(
        "--permutations", type=int, default=DEFAULT_PERMUTATIONS, help="Monte Carlo permutations (default %(default)d)"
    )
    hotspots.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the permutations")
    hotspots.add_argument(
        "--backtest", action="store_true", help="also refit the scan month by month and score it (slower)"
    )
    hotspots.add_argument("--format", choices=["json", "csv"], default="json")
    hotspots.set_defaults(handler=cmd_hotspots)


def _add_measures_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``measures``: the plan's scorecard as JSON."""
    measures = commands.add_parser(
        "measures", parents=[common], help="the community safety plan's performance measures"
    )
    measures.add_argument("--as-of", help="month to report at, YYYY-MM (default: the latest loaded)")
    measures.add_argument("--locality", help="scope borough-wide incident measures to one locality")
    measures.add_argument("--format", choices=["json"], default="json")
    measures.add_argument(
        "--accept-partial-baseline",
        action="store_true",
        help="build a baseline from the loaded months of a partly loaded baseline period (scaled to the whole period)",
    )
    measures.set_defaults(handler=cmd_measures)


def _add_summary_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``summary``: a ward's quarterly summary for councillors."""
    summary = commands.add_parser("summary", parents=[common], help="ward quarterly summary for councillors")
    summary.add_argument("--ward", help="ward GSS code, e.g. E05001301")
    summary.add_argument("--all", action="store_true", help="every ward (Markdown and PDF files, with --out)")
    summary.add_argument("--quarter", required=True, help="UK financial quarter, e.g. 2025/26-Q2 (Q1 = April to June)")
    summary.add_argument("--format", choices=["json", "md"], default="json")
    summary.add_argument("--out", help="folder for --all")
    summary.set_defaults(handler=cmd_summary)


def _add_pack_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``pack``: a locality's panel pack."""
    pack = commands.add_parser("pack", parents=[common], help="locality panel pack (PDF or HTML)")
    pack.add_argument("--locality", required=True, help="locality name, e.g. North")
    pack.add_argument("--quarter", required=True, help="UK financial quarter, e.g. 2025/26-Q2")
    pack.add_argument("--out", required=True, help="output file ending .pdf or .html")
    pack.set_defaults(handler=cmd_pack)


def _add_counts_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``counts``: incident counts grouped as asked."""
    counts = commands.add_parser(
        "counts", parents=[common], help="incident counts grouped by ward, month, category ..."
    )
    counts.add_argument(
        "--by", default="ward,month,category", help="comma-separated: ward, locality, month, category, source, force"
    )
    counts.add_argument("--from", dest="month_from", help="first month, YYYY-MM")
    counts.add_argument("--to", dest="month_to", help="last month, YYYY-MM")
    counts.add_argument("--format", choices=["csv", "json"], default="csv")
    counts.add_argument(
        "--include-outside",
        action="store_true",
        help="also count stored rows outside the area and force-wide rows with no location (a check, not a figure)",
    )
    counts.set_defaults(handler=cmd_counts)


def _add_serve_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``serve``: the app with production settings."""
    serve = commands.add_parser("serve", parents=[common], help="start the app with production settings")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument(
        "--address",
        default=DEFAULT_SERVE_ADDRESS,
        help="address to listen on (default 127.0.0.1: only a reverse proxy on this machine; 0.0.0.0 for all)",
    )
    serve.add_argument("--check", action="store_true", help="only check the production settings")
    serve.set_defaults(handler=cmd_serve)


def _add_users_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``users list|add|remove|passwd``: the local users file."""
    users = commands.add_parser("users", help="manage sign-in accounts and roles (the local users file)")
    user_actions = users.add_subparsers(dest="action", required=True)
    user_list = user_actions.add_parser("list", parents=[common], help="list users and roles")
    user_list.set_defaults(handler=cmd_users)
    user_add = user_actions.add_parser("add", parents=[common], help="add a user (asks for a password)")
    user_add.add_argument("username", help="user name, or the e-mail address used with single sign-on")
    user_add.add_argument("--role", required=True, choices=list(roles()))
    user_add.add_argument("--locality", help="the locality of a locality lead")
    user_add.add_argument("--name", help="full name, shown in the app and the audit log")
    user_add.add_argument("--sso", action="store_true", help="no password: signs in through single sign-on only")
    user_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user_add.set_defaults(handler=cmd_users)
    user_remove = user_actions.add_parser("remove", parents=[common], help="remove a user")
    user_remove.add_argument("username")
    user_remove.set_defaults(handler=cmd_users)
    user_passwd = user_actions.add_parser("passwd", parents=[common], help="set a user's password")
    user_passwd.add_argument("username")
    user_passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user_passwd.set_defaults(handler=cmd_users)


def main(argv: Sequence[str] | None = None) -> int:
    with safe_standard_streams():
        return _run(argv)


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ImportRejected as exc:
        _end_progress_line()
        problems = [p for p in exc.report.problems if p.action != "note"]
        print(f"Error: nothing was imported; {len(problems)} problem(s) found:", file=sys.stderr)
        for problem in problems[:MAX_PROBLEMS_PRINTED]:
            print(f"  {problem.sentence()}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (CliError, DatabaseError, config.ConfigError) as exc:
        _end_progress_line()
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        return 0
