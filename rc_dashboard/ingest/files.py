"""Finding the files to import: single files, folders and zip archives, read safely.

data.police.uk's download page produces a zip of ``YYYY-MM/YYYY-MM-<force>-street.csv``
files; analysts also keep folders of them. Archives are opened in memory and checked before
anything is read: no member may climb out of the archive (``../x``, absolute paths), and
the uncompressed total and compression ratio are capped so a "zip bomb" cannot exhaust the
machine. Nothing in an archive is ever executed or written to disk.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from rc_dashboard.ingest.validation import ValidationReport

MAX_FILE_BYTES = 512 * 1024**2  # one input file, 512 MiB
MAX_ARCHIVE_UNCOMPRESSED_BYTES = 4 * 1024**3  # all members of one zip together, 4 GiB
# Real police.uk and partner CSVs deflate 5 to 12 to 1; bigger ratios are typical of decompression bombs.
# The ratio bounds the memory one upload can take: a 20 MiB zip expands to at most 1 GiB.
MAX_COMPRESSION_RATIO = 50
SMALL_MEMBER_BYTES = 1024**2  # members this small may exceed the ratio (a header and a few rows compress well)
MAX_ARCHIVE_MEMBERS = 5_000
READ_CHUNK_BYTES = 1024**2  # members are decompressed this much at a time, counted as they go


@dataclass(frozen=True)
class InputFile:
    """One file's name (as the user knows it, e.g. ``archive.zip/2024-01/...csv``) and bytes."""

    name: str
    data: bytes

    @cached_property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes, computed once (hashing 300 MB takes half a second)."""
        return hashlib.sha256(self.data).hexdigest()


# Leading bytes of the kinds of file most often uploaded by mistake in place of a CSV or boundary file.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Excel (.xls) or Word file"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


def file_kind(data: bytes) -> str | None:
    """What a file really is when its bytes say it is not text: "an Excel workbook", "a PDF document" ...

    None for anything else (text, GeoJSON, or a kind not recognised). Used so a mis-typed upload is
    named for what it is ("an Excel workbook named .csv") rather than reported as "not UTF-8".
    """
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return "a damaged zip archive"
        if any(n.startswith("xl/") for n in names):
            return "an Excel workbook"
        if any(n.startswith("word/") for n in names):
            return "a Word document"
        return "a zip archive"
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


def _unsafe_member(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def read_zip(data: bytes, archive_name: str, report: ValidationReport, suffixes: tuple[str, ...]) -> list[InputFile]:
    """Members of a zip archive whose names end with ``suffixes``, after the safety checks."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        report.reject(archive_name, "the file is not a valid zip archive.")
        return []
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_ARCHIVE_MEMBERS:
        report.reject(
            archive_name, f"the archive holds {len(members):,} files; at most {MAX_ARCHIVE_MEMBERS:,} are accepted."
        )
        return []
    unsafe = [m.filename for m in members if _unsafe_member(m.filename)]
    if unsafe:
        report.reject(
            archive_name, f"the archive contains a path that leaves the archive ({unsafe[0]}); it was not opened."
        )
        return []
    total = sum(m.file_size for m in members)
    if total > MAX_ARCHIVE_UNCOMPRESSED_BYTES:
        report.reject(
            archive_name,
            f"the archive would expand to {total / 1024**3:.1f} GiB, over the {MAX_ARCHIVE_UNCOMPRESSED_BYTES / 1024**3:.0f} GiB limit.",
        )
        return []
    for member in members:
        if member.file_size > MAX_FILE_BYTES:
            report.reject(
                archive_name,
                f"{member.filename} would be {member.file_size / 1024**2:,.0f} MiB, over the {MAX_FILE_BYTES / 1024**2:,.0f} MiB limit for one file.",
            )
            return []
        if member.file_size > _member_allowance(member):
            report.reject(
                archive_name,
                f"{member.filename} is compressed {member.file_size / member.compress_size:,.0f} to 1, which looks like a decompression bomb.",
            )
            return []
    files = []
    budget = MAX_ARCHIVE_UNCOMPRESSED_BYTES  # counted on the bytes really decompressed, not the headers' claims
    for member in sorted(members, key=lambda m: m.filename):
        if not member.filename.lower().endswith(suffixes) or PurePosixPath(member.filename).name.startswith("."):
            continue
        try:
            content = _read_member(archive, member, min(member.file_size, budget))
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            report.reject(
                archive_name, f"{member.filename} cannot be extracted: the archive is damaged or encrypted ({exc})."
            )
            return []
        if content is None or len(content) != member.file_size:  # the header lied about the size
            report.reject(archive_name, f"{member.filename} is not the size its archive header states.")
            return []
        budget -= len(content)
        files.append(InputFile(f"{archive_name}/{member.filename}", content))
    return files


def _member_allowance(member: zipfile.ZipInfo) -> int:
    """The most bytes one member may expand to: its compressed size times the ratio limit, within the file limit."""
    return min(MAX_FILE_BYTES, max(SMALL_MEMBER_BYTES, member.compress_size * MAX_COMPRESSION_RATIO))


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The member's bytes, decompressed a chunk at a time; None as soon as they pass `limit` or its allowance.

    Headers can lie, so the running count (not the stated size) is what stops a bomb: memory used is
    at most the limit plus one chunk, whatever the archive claims.
    """
    limit = min(limit, _member_allowance(member))
    chunks: list[bytes] = []
    held = 0
    with archive.open(member) as handle:
        while chunk := handle.read(min(READ_CHUNK_BYTES, limit + 1 - held)):
            held += len(chunk)
            if held > limit:
                return None
            chunks.append(chunk)
    return b"".join(chunks)


def expand_inputs(inputs: Iterable[InputFile], report: ValidationReport, suffixes: tuple[str, ...]) -> list[InputFile]:
    """Open zip archives among ``inputs``; enforce the per-file size limit."""
    expanded: list[InputFile] = []
    for item in inputs:
        if len(item.data) > MAX_FILE_BYTES:
            report.reject(
                item.name,
                f"the file is {len(item.data) / 1024**2:,.0f} MiB, over the {MAX_FILE_BYTES / 1024**2:,.0f} MiB limit.",
            )
        elif item.name.lower().endswith(".zip"):
            expanded.extend(read_zip(item.data, item.name, report, suffixes))
        else:
            expanded.append(item)
    return expanded


def files_from_paths(
    paths: Iterable[str | Path], report: ValidationReport, suffixes: tuple[str, ...]
) -> list[InputFile]:
    """Files named on the command line: files, folders (searched recursively for ``suffixes``) and zips."""
    found: list[InputFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and child.name.lower().endswith((*suffixes, ".zip"))
                    and not child.name.startswith(".")
                ):
                    found.append(InputFile(str(child), child.read_bytes()))
        elif path.is_file():
            if path.stat().st_size > MAX_FILE_BYTES:
                report.reject(str(path), f"the file is over the {MAX_FILE_BYTES / 1024**2:,.0f} MiB limit.")
                continue
            found.append(InputFile(str(path), path.read_bytes()))
        else:
            report.reject(str(path), "no such file or folder.")
    return expand_inputs(found, report, suffixes)
