"""The HTML claims report: structure from stored results, and a real browser rendering it (slow)."""
import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from qgm.cli import main
from qgm.reproduce import Claim, run_claim


def _results(tmp_path):
    for name, values, direction in (("alpha", [0.1, 0.3, 0.2, 0.1, 0.15], "below"), ("beta", [1.0, 2.0, 0.5, 1.5, 3.0], "above")):
        claim = Claim(name=name, title=f"claim {name} <b>", paper="Someone 2026", metric="m", paper_value=0.2,
                      threshold=0.25 if direction == "below" else 2.5, direction=direction, setting="toy setting",
                      convention="toy convention", measure=lambda seed, quick, v=values: {"m": v[seed], "extra": 1.0},
                      baseline="uniform")
        run_claim(claim, tmp_path)
    return tmp_path


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.sections, self.rows = [], 0, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "section":
            self.sections += 1
        if tag == "tr":
            self.rows += 1


def test_report_lists_every_claim_with_verdict_plot_and_escaped_text(tmp_path):
    results = _results(tmp_path / "results")
    assert main(["report", "--results", str(results), "--out", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text()
    parser = _Collect()
    parser.feed(page)
    assert parser.sections == 2 and len(parser.images) == 2
    for src in parser.images:
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "claim alpha &lt;b&gt;" in page and "<b>\n" not in page.split("<body>")[1].split("claim alpha")[0]
    assert page.count("✓ passes") == 2 and page.count("✗ fails") == 2  # summary + section per claim
    assert "qgm reproduce alpha" in page and "1 of 2 claims pass" in page
    assert main(["report", "--results", str(tmp_path / "empty"), "--out", str(tmp_path / "x.html")]) == 2


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    results = _results(tmp_path / "results")
    main(["report", "--results", str(results), "--out", str(tmp_path / "r.html")])
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    url = (tmp_path / "r.html").as_uri()
    dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.stdout.count("<section") == 2 and 'id="summary"' in dom.stdout
    assert not re.search(r"CONSOLE|Uncaught", dom.stderr)
    shot = subprocess.run([browser, *flags, "--window-size=1200,1600", f"--screenshot={tmp_path / 'r.png'}", url],
                          capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0 and not re.search(r"CONSOLE|Uncaught", shot.stderr)
    from PIL import Image

    img = Image.open(tmp_path / "r.png").convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20)
    assert img.size == (1200, 1600) and colours is not None and len(colours) > 50  # text, table lines and plots
