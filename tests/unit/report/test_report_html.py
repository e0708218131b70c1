"""The HTML report is one self-contained file that renders in headless Chromium with no request.

How "no request leaves the file" is proved: Chromium runs with every host name mapped to
NOTFOUND (so nothing could reach the network anyway) and writes a net log; every URL request the
*page* starts (initiator = the file's opaque origin, isolation key ``file://``) is collected.
Chromium's own background requests (time sync, Google account probes) have no page initiator and
are ignored. A positive control renders a page with one external image and one external
stylesheet and must find exactly those two, so the check would fail if the report made one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from crm_sync.model.frames import Dataset
from crm_sync.report.build import ReportOptions, build_report
from crm_sync.report.html import render_html
from crm_sync.report.source import as_of_dates, snapshots_from_data
from crm_sync.rules.load import load_model

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "bench" / "out"


def _report_html() -> str:
    model = load_model(ROOT / "mappings" / "model.yaml")
    dataset = Dataset.load_json(ROOT / "examples" / "data.json")
    snap = snapshots_from_data(model, dataset, as_of_dates(dt.date(2025, 10, 1), 6, 45))
    opts = ReportOptions(now=dt.datetime(2025, 10, 2, 6, tzinfo=dt.UTC))
    return render_html(build_report(snap, opts))


@pytest.fixture(scope="module")
def report_html() -> str:
    """The example report (examples/data.json at six dates 45 days apart)."""
    return _report_html()


def _render(chromium: str, page: Path, tmp: Path) -> tuple[Path, list[str]]:
    """Screenshot ``page``; return the PNG and the URLs of requests the page itself started."""
    shot, netlog = tmp / "report.png", tmp / "net.json"
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2400",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--log-net-log={netlog}",
        page.as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    log = json.loads(netlog.read_text(encoding="utf-8"))
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if names.get(event["type"]) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        initiator = params.get("initiator")
        by_page = initiator not in (None, "not an origin") or "file://" in str(
            params.get("network_isolation_key", "")
        )
        if by_page:
            urls.append(params["url"])
    return shot, urls


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_html_has_no_external_references(report_html: str) -> None:
    """No URL scheme, src/href, url(), @import, script, link or img anywhere in the page."""
    lowered = report_html.lower()
    assert "://" not in lowered
    for token in ("src=", "href=", "url(", "@import", "<script", "<link", "<img", "<iframe"):
        assert token not in lowered, token


def test_html_charts_are_accessible_and_have_tables(report_html: str) -> None:
    """Every chart is an <svg role=img> with a <title>, and tables follow the charts."""
    charts = re.findall(r"<svg [^>]*role=\"img\"[^>]*>\s*<title", report_html)
    assert len(charts) >= 10
    assert report_html.count("<svg") == len(charts)
    assert report_html.count("<table>") >= len(charts)
    for heading in (
        "Segment sizes over time",
        "Transitions between runs",
        "Relationship map",
        "Completeness of required fields",
        "Lift of conversion per segment",
    ):
        assert heading in report_html


def test_report_renders_in_headless_chromium_without_requests(
    chromium: str, report_html: str, tmp_path: Path
) -> None:
    """Chromium screenshots the report (1280×2400 PNG) and the page starts no URL request."""
    page = tmp_path / "report.html"
    page.write_text(report_html, encoding="utf-8")
    shot, requests = _render(chromium, page, tmp_path)
    assert requests == []
    assert shot.exists()
    assert _png_size(shot) == (1280, 2400)
    assert shot.stat().st_size > 50_000  # a blank page of that size is a few kB
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, OUT / "report.png")
    shutil.copyfile(page, OUT / "report.html")


def test_request_detection_catches_external_resources(chromium: str, tmp_path: Path) -> None:
    """Positive control: a page with an external image and stylesheet is caught by the check."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<html><body><img src="http://example.com/x.png">'
        '<link rel="stylesheet" href="https://fonts.example.org/a.css"><p>x</p></body></html>',
        encoding="utf-8",
    )
    _, requests = _render(chromium, page, tmp_path)
    assert sorted(requests) == ["http://example.com/x.png", "https://fonts.example.org/a.css"]
