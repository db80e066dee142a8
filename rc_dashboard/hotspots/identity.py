"""Stable names for emerging hotspots, so a locality panel can follow a place from month to month.

A place the scan flags keeps its name (``E7``) in later analyses as long as its new extent overlaps
the extent it had when last flagged; a place that overlaps none gets the next unused number. The
register is a small list of records (name, extent as WKB hex in BNG metres, the as-of months it was
first and last flagged), kept by the caller (the database's shared ``meta`` table), so every
replica names places alike.
"""

from __future__ import annotations

import shapely

PREFIX = "E"


def assign_names(extents: list[shapely.Geometry], register: list[dict], as_of: str) -> tuple[list[str], list[dict]]:
    """Names for ``extents`` (strongest first) and the updated register.

    Each extent takes the name of the register entry it overlaps most that no stronger extent has
    taken; otherwise a new name. An entry's extent and ``last_as_of`` move on only when ``as_of`` is
    not older than its ``last_as_of`` (re-running an old month does not rewrite history).
    """
    entries = [dict(entry) for entry in register]
    shapes = [shapely.from_wkb(bytes.fromhex(entry["wkb"])) for entry in entries]
    taken: set[int] = set()
    names = []
    next_number = 1 + max(
        (int(e["name"][len(PREFIX) :]) for e in entries if e["name"][len(PREFIX) :].isdigit()), default=0
    )
    for extent in extents:
        overlaps = [
            (shapely.intersection(extent, shape).area, k)
            for k, shape in enumerate(shapes)
            if k not in taken and shapely.intersects(extent, shape)
        ]
        overlaps = [(area, k) for area, k in overlaps if area > 0]
        if overlaps:
            _, k = max(overlaps)
            taken.add(k)
            names.append(entries[k]["name"])
            if as_of >= entries[k]["last_as_of"]:
                entries[k].update(wkb=shapely.to_wkb(extent, hex=True), last_as_of=as_of)
            entries[k]["first_as_of"] = min(entries[k]["first_as_of"], as_of)
        else:
            name = f"{PREFIX}{next_number}"
            next_number += 1
            entries.append(
                {"name": name, "wkb": shapely.to_wkb(extent, hex=True), "first_as_of": as_of, "last_as_of": as_of}
            )
            shapes.append(extent)
            taken.add(len(entries) - 1)
            names.append(name)
    return names, entries
