"""The optional basemap's configuration (rc_dashboard.basemap)."""

from __future__ import annotations

import pytest

from rc_dashboard import basemap, config

GOOD = {"url_template": "https://tiles.example.gov.uk/{z}/{x}/{y}.png", "attribution": "© Example Council"}


def test_absent_or_off_means_no_basemap():
    assert basemap.parse_basemap(None) is None
    assert basemap.parse_basemap(False) is None
    assert basemap.parse_basemap({**GOOD, "enabled": False}) is None


def test_a_good_entry():
    chosen = basemap.parse_basemap({**GOOD, "max_zoom": 17})
    assert chosen == basemap.Basemap(GOOD["url_template"], "© Example Council", 17)
    assert chosen.tile_url(15, 16300, 10800) == "https://tiles.example.gov.uk/15/16300/10800.png"
    assert basemap.parse_basemap(GOOD).max_zoom == basemap.DEFAULT_MAX_ZOOM


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("https://x/{z}/{x}/{y}", "must be a mapping"),
        ({**GOOD, "url_template": "file:///etc/{z}/{x}/{y}"}, "http"),
        ({**GOOD, "url_template": "https://tiles.example/{z}/{x}.png"}, "must contain"),
        ({**GOOD, "attribution": " "}, "attribution is required"),
        ({**GOOD, "max_zoom": 30}, "max_zoom"),
        ({**GOOD, "max_zoom": True}, "max_zoom"),
        ({**GOOD, "style": "carto"}, "unknown keys style"),
    ],
)
def test_bad_entries_raise_naming_the_key(raw, message):
    with pytest.raises(config.ConfigError, match=message):
        basemap.parse_basemap(raw)


def test_read_from_area_yaml(tmp_path, monkeypatch):
    (tmp_path / "area.yaml").write_text(
        "area_name: Test\nbasemap:\n  url_template: 'http://127.0.0.1:9/{z}/{x}/{y}.png'\n  attribution: Test tiles\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("RC_CONFIG_DIR", str(tmp_path))
    assert basemap.basemap() == basemap.Basemap("http://127.0.0.1:9/{z}/{x}/{y}.png", "Test tiles", 19)


def test_the_shipped_config_has_no_basemap():
    assert basemap.parse_basemap(config.read_yaml(config.DEFAULT_CONFIG_DIR / "area.yaml").get("basemap")) is None
