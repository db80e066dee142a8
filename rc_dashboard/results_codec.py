"""A safe archive format for stored analyses: JSON, Arrow IPC / GeoParquet and ``.npy``, never pickle.

A stored result is read back by every app replica from the shared database. Unpickling runs
whatever code the bytes name, so a database anyone could write to would be a way into every
replica; this format holds only data. An archive is a zip of ``manifest.json`` (the structure, as
JSON) and one member per table (an Arrow IPC stream; GeoParquet for geometries, in their CRS) or
array (``numpy.save`` with ``allow_pickle=False``). Tables were Parquet before: archives holding
Parquet tables are still read. Arrow IPC reads a small table back in 0.6 ms against Parquet's
1.7 ms, and a quarter's ward summaries or a scorecard hold a table per ward or measure: every
server decodes them once per data version, while its first visitors wait. Objects are rebuilt only for the classes registered
here (an allow-list by qualified name), by setting their stored attributes; nothing else is called.

>>> import numpy as np, pandas as pd
>>> from rc_dashboard.results_codec import dumps, loads
>>> back = loads(dumps({"table": pd.DataFrame({"a": [1, 2]}), "z": np.arange(3), "note": ("x", 1.5)}))
>>> back["table"]["a"].tolist(), back["z"].tolist(), back["note"]
([1, 2], [0, 1, 2], ('x', 1.5))
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import zipfile
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

FORMAT = 1

# Classes an archive may rebuild, by qualified name. Adding one: it must hold only data (its
# attributes are restored as they were stored; no __init__ or other method runs).
ALLOWED_CLASSES = frozenset(
    {
        "rc_dashboard.access.PointScope",
        "rc_dashboard.access.Principal",  # an access scope (a view's argument: no user name, see Principal.scope)
        "rc_dashboard.hotspots.analysis.HotspotAnalysis",
        "rc_dashboard.hotspots.analysis.HotspotParams",
        "rc_dashboard.hotspots.analysis.ScanInputs",
        "rc_dashboard.hotspots.backtest.BacktestSummary",
        "rc_dashboard.hotspots.cube.SpaceTimeCube",
        "rc_dashboard.hotspots.ehsa.EmergingHotSpots",
        "rc_dashboard.hotspots.scan.SpaceTimePermutationScan",
        "rc_dashboard.measures.Measure",
        "rc_dashboard.measures.MeasureResult",
        "rc_dashboard.queries.IncidentFilter",
        "rc_dashboard.reports.locality_pack.LocalityPack",
        "rc_dashboard.reports.pack_hotspots.HotspotBrief",
        "rc_dashboard.reports.suppression.SuppressedTable",
        "rc_dashboard.reports.ward_summary.QuarterTables",
        "rc_dashboard.reports.ward_summary.WardSummary",
        "rc_dashboard.services.hotspots.Evidence",
    }
)


class ArchiveError(ValueError):
    """The bytes are not an archive this code can read (damaged, another format, a class not allowed)."""


def dumps(value: Any) -> bytes:
    """Encode ``value`` (plain data, tables, arrays, geometries and allowed objects) as archive bytes."""
    members: dict[str, bytes] = {}
    structure = _encode(value, members)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", json.dumps({"format": FORMAT, "value": structure}))
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def loads(data: bytes) -> Any:
    """Decode archive bytes made by :func:`dumps`; :class:`ArchiveError` if they cannot be read safely."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            if manifest.get("format") != FORMAT:
                raise ArchiveError(f"archive format {manifest.get('format')!r}, expected {FORMAT}")
            return _decode(manifest["value"], archive)
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise ArchiveError(f"the stored result cannot be read: {exc}") from exc


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _member(members: dict[str, bytes], suffix: str, data: bytes) -> str:
    name = f"{len(members)}.{suffix}"
    members[name] = data
    return name


def _encode(value: Any, members: dict[str, bytes]) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float) and not isinstance(value, np.generic):
        return value if not isinstance(value, float) or np.isfinite(value) else {"float": repr(value)}
    if isinstance(value, np.generic):
        return _encode(value.item(), members)
    if isinstance(value, bytes):  # small ones inline; images (a pack's maps) as members of their own
        return {"bytes": value.hex()} if len(value) <= 1024 else {"blob": _member(members, "bin", value)}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, members) for v in value]}
    if isinstance(value, list):
        return [_encode(v, members) for v in value]
    if isinstance(value, set | frozenset):
        return {"set": [_encode(v, members) for v in sorted(value, key=repr)]}
    if isinstance(value, dict):
        return {"dict": [[_encode(k, members), _encode(v, members)] for k, v in value.items()]}
    if isinstance(value, gpd.GeoDataFrame):
        frame, names = _string_columns(value)
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        return {"geoframe": _member(members, "parquet", buffer.getvalue()), "columns": _encode(names, members)}
    if isinstance(value, pd.DataFrame):
        frame, names = _string_columns(value)
        table = pa.Table.from_pandas(frame)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return {"frame": _member(members, "arrow", sink.getvalue().to_pybytes()), "columns": _encode(names, members)}
    if isinstance(value, pd.Series):
        return {"series": _encode(value.to_frame(name="values"), members), "name": _encode(value.name, members)}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"objects": _encode(value.tolist(), members), "shape": list(value.shape)}
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return {"array": _member(members, "npy", buffer.getvalue())}
    if isinstance(value, shapely.Geometry):
        return {"wkb": shapely.to_wkb(value).hex()}
    if isinstance(value, pd.Timestamp):
        return {"timestamp": value.isoformat()}
    name = _qualified(type(value))
    if name in ALLOWED_CLASSES:
        state = (
            {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            if dataclasses.is_dataclass(value)
            else vars(value)
        )
        return {"object": name, "state": _encode(dict(state), members)}
    raise TypeError(f"cannot store a {name} in a result archive (add it to ALLOWED_CLASSES if it holds only data)")


def _string_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, list | None]:
    """Arrow and Parquet need string column names: keep the originals aside when they are not."""
    if all(isinstance(c, str) for c in frame.columns) and frame.columns.is_unique:
        return frame, None
    names = list(frame.columns)
    renamed = frame.copy(deep=False)
    renamed.columns = [f"c{i}" for i in range(len(names))]
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in names:
        renamed = gpd.GeoDataFrame(renamed, geometry=f"c{names.index(frame.geometry.name)}", crs=frame.crs)
    return renamed, names


def _decode(value: Any, archive: zipfile.ZipFile) -> Any:
    if not isinstance(value, dict | list):
        return value
    if isinstance(value, list):
        return [_decode(v, archive) for v in value]
    if "float" in value:
        return float(value["float"])
    if "bytes" in value:
        return bytes.fromhex(value["bytes"])
    if "blob" in value:
        return archive.read(value["blob"])
    if "tuple" in value:
        return tuple(_decode(v, archive) for v in value["tuple"])
    if "set" in value:
        return {_decode(v, archive) for v in value["set"]}
    if "dict" in value:
        return {_decode(k, archive): _decode(v, archive) for k, v in value["dict"]}
    if "geoframe" in value:
        frame = gpd.read_parquet(io.BytesIO(archive.read(value["geoframe"])))
        return _restore_columns(frame, _decode(value["columns"], archive))
    if "frame" in value:
        data = archive.read(value["frame"])
        if value["frame"].endswith(".arrow"):
            frame = pa.ipc.open_stream(data).read_all().to_pandas()
        else:  # an archive written before tables were Arrow IPC
            frame = pd.read_parquet(io.BytesIO(data))
        return _restore_columns(frame, _decode(value["columns"], archive))
    if "series" in value:
        return _decode(value["series"], archive)["values"].rename(_decode(value["name"], archive))
    if "array" in value:
        return np.load(io.BytesIO(archive.read(value["array"])), allow_pickle=False)
    if "objects" in value:
        items = _decode(value["objects"], archive)
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out.reshape(value["shape"]) if len(value["shape"]) == 1 else np.array(items, dtype=object)
    if "wkb" in value:
        return shapely.from_wkb(bytes.fromhex(value["wkb"]))
    if "timestamp" in value:
        return pd.Timestamp(value["timestamp"])
    if "object" in value:
        return _rebuild(value["object"], _decode(value["state"], archive))
    raise ArchiveError(f"unknown entry {sorted(value)!r}")


def _restore_columns(frame: pd.DataFrame, names: list | None) -> pd.DataFrame:
    # Arrow and Parquet give list columns back as arrays; the analyses built them as lists.
    for column in frame.columns:
        if frame[column].dtype == object:
            first = frame[column].dropna()
            if len(first) and isinstance(first.iloc[0], np.ndarray):
                frame[column] = frame[column].map(lambda v: v.tolist() if isinstance(v, np.ndarray) else v)
    if names is not None:
        geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
        frame.columns = names
        if geometry is not None:
            frame = frame.set_geometry(names[int(geometry[1:])])
    return frame


def _rebuild(name: str, state: dict) -> Any:
    if name not in ALLOWED_CLASSES:
        raise ArchiveError(f"a stored result names the class {name!r}, which is not allowed")
    module_name, _, class_name = name.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    obj = object.__new__(cls)
    for key, item in state.items():
        object.__setattr__(obj, key, item)  # frozen dataclasses too: nothing of the class runs
    return obj
