"""A zip that expands about 100 to 1 is refused before it takes more memory than the limits allow.

Before: members were accepted up to a ratio of 200 and read whole, so a 400 KiB upload took 40 MiB
(and a 20 MiB one about 4 GiB). Now the ratio limit (50, real CSVs deflate 5 to 12 to 1) refuses it
from the headers, and members are read a chunk at a time against a running count.
"""

from __future__ import annotations

import io
import random
import tracemalloc
import zipfile

from rc_dashboard.ingest import files
from rc_dashboard.ingest.validation import ValidationReport

ROW = "c1,2024-01,Test Police,Test Police,-1.994053,52.584308,On or near Mill Lane,E01010268,Walsall 021B,Burglary,,\n"
MIB = 1024**2


def _chunk(every: int) -> bytes:
    """1 MiB of police-like rows, one in `every` with a random Crime ID: deflates about 100 to 1 at every=6."""
    rnd = random.Random(14)
    rows, size, n = [], 0, 0
    while size < MIB:
        if every == 1:  # like police.uk: a 64-hex Crime ID and coordinates on every row
            line = ROW.replace("c1", f"{rnd.getrandbits(256):064x}", 1).replace("994053", f"{rnd.randrange(10**6):06d}")
        else:
            line = ROW if n % every else ROW.replace("c1", f"c{rnd.randrange(10**6)}", 1)
        rows.append(line)
        size += len(line)
        n += 1
    return "".join(rows).encode()[:MIB]


def _bomb(mebibytes: int, every: int = 6) -> bytes:
    buffer = io.BytesIO()
    chunk = _chunk(every)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("2024-01/2024-01-test-street.csv", "w", force_zip64=False) as member,
    ):
        for _ in range(mebibytes):
            member.write(chunk)
    return buffer.getvalue()


def _peak_while_reading(data: bytes) -> tuple[list, ValidationReport, int]:
    report = ValidationReport()
    tracemalloc.start()
    try:
        found = files.read_zip(data, "upload.zip", report, (".csv",))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return found, report, peak


def test_a_ratio_100_zip_is_refused_before_it_is_expanded():
    data = _bomb(40)
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    ratio = info.file_size / info.compress_size
    assert 80 < ratio < 130, ratio
    found, report, peak = _peak_while_reading(data)
    assert found == [] and report.rejected
    assert "looks like a decompression bomb" in report.problems[0].reason
    assert peak < 2 * MIB, f"peak {peak / MIB:.1f} MiB while refusing a {info.file_size / MIB:.0f} MiB member"


def test_a_real_ratio_zip_is_read_whole_within_its_size_plus_one_chunk():
    data = _bomb(8, every=1)  # deflates about 3 to 1, like a real police.uk file (5)
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    assert info.file_size / info.compress_size < 12
    found, report, peak = _peak_while_reading(data)
    assert not report.rejected and len(found) == 1 and len(found[0].data) == 8 * MIB
    assert peak < 2 * 8 * MIB + files.READ_CHUNK_BYTES + MIB, f"peak {peak / MIB:.1f} MiB"


def test_the_running_count_stops_a_member_at_the_archive_budget(monkeypatch):
    data = _bomb(4, every=1)
    monkeypatch.setattr(files, "MAX_ARCHIVE_UNCOMPRESSED_BYTES", 3 * MIB)  # the headers pass, the running count not
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 10 * MIB)
    report = ValidationReport()
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert files._read_member(archive, info, 3 * MIB) is None
    assert len(files._read_member(archive, info, 4 * MIB)) == info.file_size
    assert report.problems == []
