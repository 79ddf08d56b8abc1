"""Real-browser tests: the app under ``streamlit run`` in Debian chromium (Playwright), offline, XSS-safe."""

from __future__ import annotations

import io
import json
import time

import pytest
from _browser import (
    SCREENSHOTS,
    chromium_missing,
    exception_count,
    network_frame,
    streamlit_server,
    wait_for_app,
)
from _uidata import BEACON, TODAY, XSS_NAME, small_batch

from msonet.graph.store import EmbeddedStore

pytestmark = [pytest.mark.browser, pytest.mark.skipif(chromium_missing() is not None,
                                                      reason=chromium_missing() or "")]

#: URL path -> (German title, screenshot name).
PAGES = {
    "": ("Übersicht", "01-uebersicht"),
    "netzwerk": ("Netzwerk", "02-netzwerk"),
    "isoliert": ("Isolierte Organisationen", "03-isoliert"),
    "tandem": ("Tandem-Suche", "04-tandem"),
    "treffen": ("Vernetzungstreffen", "05-treffen"),
    "karte": ("Versorgungskarte", "06-karte"),
    "daten": ("Daten", "07-daten"),
}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    home = tmp_path_factory.mktemp("browser-store")
    EmbeddedStore(home).upsert(small_batch())
    log = tmp_path_factory.mktemp("browser-log") / "streamlit.log"
    with streamlit_server(home, today=TODAY, log=log) as url:
        yield url


@pytest.fixture
def page(browser, app_url):
    """A fresh tab that fails the test on any dialog (alert = script ran) or request leaving the machine."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, locale="de-DE")
    tab = context.new_page()
    tab.set_default_timeout(60_000)  # first runs build caches (graph, partner index) on 2 cores
    dialogs: list[str] = []
    outside: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request):
        if not request.url.startswith((app_url, "data:", "blob:", "about:")):
            outside.append(request.url)

    tab.on("dialog", on_dialog)
    tab.on("request", on_request)
    yield tab
    context.close()
    assert not dialogs, f"a dialog opened (script from data ran?): {dialogs}"
    assert not outside, f"requests to other hosts (the app must work offline): {outside[:5]}"


def _open(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)


@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads_without_exception(page, app_url, path):
    title, shot = PAGES[path]
    _open(page, f"{app_url}/{path}")
    page.get_by_role("heading", name=title, exact=True).wait_for()
    if path == "netzwerk":
        network_frame(page)
    if path in ("isoliert", "karte"):
        page.wait_for_selector(".js-plotly-plot canvas", timeout=30_000)
        page.wait_for_timeout(1500)  # maplibre paints after the canvas appears
    assert exception_count(page) == 0
    page.wait_for_timeout(1000)  # data frames paint their canvas a moment after the run ends
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)


def test_network_draws_nodes_and_xss_name_is_text(page, app_url):
    _open(page, f"{app_url}/netzwerk")
    frame = network_frame(page)
    assert frame.evaluate("nodes.length") == 14
    assert frame.evaluate("edges.length") == 13
    assert frame.evaluate("nodes.get('org-xss').label") == XSS_NAME
    assert frame.evaluate("document.querySelectorAll('img').length") == 0
    assert frame.evaluate("network.body.data.nodes.length") == 14
    # Hover the hostile node: vis shows the tooltip with the name as text, no element is created from it.
    if frame.evaluate("network.physics.physicsEnabled"):
        frame.wait_for_function("network.physics.stabilized === true || network.physics.ready === true",
                                timeout=15_000)
    frame.evaluate("network.stopSimulation()")
    point = frame.evaluate("(() => { const p = network.getPosition('org-xss'); return network.canvasToDOM(p); })()")
    canvas = frame.locator("#mynetwork canvas").bounding_box()  # in page coordinates
    page.mouse.move(canvas["x"] + point["x"], canvas["y"] + point["y"])
    tooltip = frame.locator("div.vis-tooltip")
    tooltip.wait_for(state="visible", timeout=5_000)
    assert XSS_NAME in tooltip.inner_text()
    assert frame.evaluate("document.querySelectorAll('img').length") == 0


def test_filter_changes_the_graph(page, app_url):
    _open(page, f"{app_url}/netzwerk")
    frame = network_frame(page)
    assert frame.evaluate("nodes.length") == 14
    sidebar = page.get_by_test_id("stSidebar")
    box = sidebar.get_by_test_id("stMultiSelect").filter(has_text="Organisationstyp")
    box.locator("input").click()
    box.locator("input").fill("MSO")
    page.get_by_role("option", name="MSO", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_function(
        """() => { const f = document.querySelector('iframe[src*="msonet_netzwerk"]');
                   return f && f.contentWindow.nodes && f.contentWindow.nodes.length === 7; }""",
        timeout=30_000)
    wait_for_app(page)
    assert network_frame(page).evaluate("nodes.length") == 7
    assert exception_count(page) == 0


def test_details_panel_shows_the_hostile_name_as_text(page, app_url):
    _open(page, f"{app_url}/netzwerk")
    search = page.get_by_test_id("stSelectbox").filter(has_text="Organisation suchen")
    search.locator("input").click()
    search.locator("input").fill("img src")
    page.get_by_role("option").filter(has_text="onerror").first.click()
    wait_for_app(page)
    heading = page.get_by_role("heading", name=XSS_NAME)
    heading.wait_for(timeout=30_000)
    assert heading.inner_text().strip() == XSS_NAME
    assert page.locator('img[src="x"]').count() == 0
    network_frame(page)
    assert exception_count(page) == 0
    page.screenshot(path=str(SCREENSHOTS / "02b-netzwerk-details.png"), full_page=True)


def test_markdown_in_stored_values_stays_inert(page, app_url):
    """Issue 14.6: a website, address or description with Markdown (a blank line, a link, an image) is shown
    as text in the details panel: no link or image element and no request to the payload URL."""
    beacon: list[str] = []
    page.on("request", lambda request: beacon.append(request.url) if request.url.startswith(BEACON) else None)
    _open(page, f"{app_url}/netzwerk")
    search = page.get_by_test_id("stSelectbox").filter(has_text="Organisation suchen")
    search.locator("input").click()
    search.locator("input").fill("img src")
    page.get_by_role("option").filter(has_text="onerror").first.click()
    wait_for_app(page)
    page.get_by_role("heading", name=XSS_NAME).wait_for(timeout=30_000)
    network_frame(page)
    page.wait_for_timeout(1500)  # an image would be fetched right after the run paints it
    main = page.get_by_test_id("stMain")
    assert main.get_by_text("[klick]").count() >= 1 and main.get_by_text("![i]").count() >= 1
    assert page.locator(f'img[src^="{BEACON}"]').count() == 0
    links = page.locator(f'a[href^="{BEACON}"]')
    assert links.count() == 0, [links.nth(i).evaluate("e => e.parentElement.outerHTML") for i in range(links.count())]
    assert beacon == []
    assert exception_count(page) == 0


def test_map_draws_districts_offline(page, app_url):
    from PIL import Image

    _open(page, f"{app_url}/karte")
    _wait_for_map(page)  # up to 90 s: maps paint slowly on a busy machine
    chart = page.locator(".js-plotly-plot").first
    image = Image.open(io.BytesIO(chart.screenshot())).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    # A blank (failed) map is almost only white; drawn districts and points give many colours.
    non_white = sum(count for count, rgb in colours if rgb != (255, 255, 255))
    assert len(colours) > 50
    assert non_white > 0.1 * image.width * image.height
    assert exception_count(page) == 0


def test_tandem_search_shows_ranked_partners_on_a_map(page, app_url):
    _open(page, f"{app_url}/tandem")
    search = page.get_by_test_id("stSelectbox").filter(has_text="MSO auswählen")
    search.locator("input").click()
    search.locator("input").fill("Ronahi")
    page.get_by_role("option").filter(has_text="Ronahi").first.click()
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot canvas", timeout=30_000)
    cells = page.locator('.st-key-tandem_table [data-testid="stTable"] td')
    cells.nth(2).wait_for(timeout=30_000)  # rank, proposal, reasons
    assert cells.count() >= 3
    assert exception_count(page) == 0
    page.screenshot(path=str(SCREENSHOTS / "04b-tandem-vorschlaege.png"), full_page=True)


def _download(page, label: str):
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=label).click()
    return info.value


def test_downloads_are_built_when_clicked(page, app_url, tmp_path):
    """Network tables, the isolation list and the full export are made on click and arrive complete."""
    import csv
    import zipfile

    _open(page, f"{app_url}/netzwerk")
    network_frame(page)
    nodes = _download(page, "Knoten als CSV")
    assert nodes.suggested_filename == "msonet-knoten.csv"
    path = tmp_path / "knoten.csv"
    nodes.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 14
    edges = _download(page, "Verbindungen als CSV")
    edges.save_as(tmp_path / "kanten.csv")
    assert len((tmp_path / "kanten.csv").read_text(encoding="utf-8-sig").strip().splitlines()) == 1 + 13

    _open(page, f"{app_url}/isoliert")
    page.get_by_role("heading", name="Isolierte Organisationen", exact=True).wait_for()
    found_metric = page.locator('[data-testid="stMetric"]').filter(has_text="Gefunden")
    found = int(found_metric.locator('[data-testid="stMetricValue"]').inner_text().replace(".", ""))
    listed = _download(page, "Liste als CSV herunterladen")
    listed.save_as(tmp_path / "isoliert.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "isoliert.csv").read_text(encoding="utf-8-sig")),
                               delimiter=";"))
    assert found > 0 and len(rows) == found and {"Name", "Gründe", "Erläuterung"} <= set(rows[0])

    _open(page, f"{app_url}/daten")
    page.get_by_role("heading", name="Daten", exact=True).wait_for()
    export = _download(page, "CSV-Dateien (ZIP, für Excel) herunterladen")
    export.save_as(tmp_path / "export.zip")
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        assert sorted(archive.namelist()) == ["events.csv", "funding.csv", "organisations.csv", "relations.csv"]
        assert b"erika@example.org" not in archive.read("organisations.csv")
    assert exception_count(page) == 0


# -- layout at the widths people use (1440 and 1024 px) ----------------------------------------------------
WIDTHS = [1440, 1024]
#: A box around NRW (lon, lat) that must lie inside every map.
NRW_CORNERS = [(5.87, 50.32), (9.46, 52.53), (5.87, 52.53), (9.46, 50.32)]
_MAP_STATE = """(i) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[i];
  const m = gd._fullLayout.map._subplot.map;
  const canvas = m.getCanvas().getBoundingClientRect();
  const box = (el) => el ? el.getBoundingClientRect().toJSON() : null;
  return {canvas: canvas.toJSON(), corners: CORNERS.map(p => { const q = m.project(p); return [q.x, q.y]; }),
          colorbar: box(gd.querySelector('.colorbar')), legend: box(gd.querySelector('.legend')),
          modebar: box(gd.querySelector('.modebar'))};
}""".replace("CORNERS", json.dumps(NRW_CORNERS))


def _settled(read, ok, seconds: float = 10.0):
    """``read()`` again every 100 ms until ``ok`` of it holds or ``seconds`` have passed; the last value (a
    fixed wait after a resize or an event was too short now and then on a busy machine)."""
    deadline = time.monotonic() + seconds
    value = read()
    while not ok(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


def _at_width(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 1000})


def _wait_for_map(page, index: int = 0) -> None:
    """Until plotly's map has loaded and painted (slow on a busy machine: up to 90 s)."""
    page.wait_for_function("""(i) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];
        const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
        return !!(sub && sub.map && sub.map.loaded() && sub.map.getCanvas().width > 0); }""",
                           arg=index, timeout=90_000)
    page.wait_for_timeout(1000)


def _map_state(page, index: int = 0) -> dict:
    _wait_for_map(page, index)
    return page.evaluate(_MAP_STATE, index)


def _assert_map_shows_nrw(state: dict) -> None:
    canvas = state["canvas"]
    for x, y in state["corners"]:
        assert 0 <= x <= canvas["width"] and 0 <= y <= canvas["height"], (
            f"NRW is cut off: corner at ({x:.0f}, {y:.0f}) outside the map of {canvas['width']:.0f} x "
            f"{canvas['height']:.0f} px")
    if state["legend"]:  # below the map, not on it
        assert state["legend"]["top"] >= canvas["bottom"] - 1
    if state["colorbar"]:  # beside the map, not on it
        assert state["colorbar"]["left"] >= canvas["right"] - 1


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_fits_the_width(page, app_url, path, width):
    """No page scrolls sideways; screenshots for reading (screenshots/<name>-<width>.png)."""
    _at_width(page, width)
    title, shot = PAGES[path]
    _open(page, f"{app_url}/{path}")
    page.get_by_role("heading", name=title, exact=True).wait_for()
    if path in ("isoliert", "karte"):
        _wait_for_map(page)
    if path == "netzwerk":
        network_frame(page)
    page.wait_for_timeout(1500)
    main = page.evaluate("(() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                         " return [m.scrollWidth, m.clientWidth]; })()")
    assert main[0] <= main[1] + 1, f"the page scrolls sideways: {main}"
    assert exception_count(page) == 0
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_isolation_map_is_not_clipped_and_reasons_are_not_cut_off(page, app_url, width):
    _at_width(page, width)
    _open(page, f"{app_url}/isoliert")
    _assert_map_shows_nrw(_map_state(page))
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    scroller = grid.locator(".dvn-scroller").first
    widths = scroller.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1] + 1, f"the reasons table scrolls sideways: {widths}"
    # rows are tall enough for the reasons to wrap (Streamlit wraps cell text from 65 px rows on)
    from msonet.ui.common import TEXT_ROW_HEIGHT

    assert TEXT_ROW_HEIGHT > 65


def _choose(page, label: str, option: str) -> None:
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    box.locator("input").click()
    page.get_by_role("option", name=option).first.click()
    wait_for_app(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_coverage_map_white_spots_are_visible_and_nothing_covers_the_districts(page, app_url, width):
    from PIL import Image

    from msonet.graph.maps import ZERO_COLOUR

    _at_width(page, width)
    _open(page, f"{app_url}/karte")
    _assert_map_shows_nrw(_map_state(page))
    _choose(page, "Einfärben nach", "Weiße Flecken")
    _choose(page, "Handlungsfeld", "LSBTIQ*")
    state = _map_state(page)
    _assert_map_shows_nrw(state)
    modebar, title = state["modebar"], page.get_by_text("Akteure im Handlungsfeld „LSBTIQ*“").first.bounding_box()
    assert title["y"] + title["height"] <= modebar["top"] + 1 or modebar is None  # toolbar not over the title
    # Hochsauerlandkreis has no LSBTIQ* actor: its fill must be the white-spot colour, not white.
    point = page.evaluate("""() => { const gd = document.querySelector('.js-plotly-plot');
        const q = gd._fullLayout.map._subplot.map.project([8.35, 51.25]); return [q.x, q.y]; }""")
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    x, y = state["canvas"]["left"] + point[0], state["canvas"]["top"] + point[1]
    pixel = shot.getpixel((int(x), int(y)))
    target = tuple(int(ZERO_COLOUR[i:i + 2], 16) for i in (1, 3, 5))
    expected = tuple(round(0.9 * c + 0.1 * 255) for c in target)  # drawn at 90 % opacity on white
    assert pixel != (255, 255, 255), "the white spot is white on white"
    assert all(abs(p - e) <= 30 for p, e in zip(pixel, expected, strict=True)), (pixel, expected)
    legend = page.locator(".js-plotly-plot .legend").first.text_content()
    assert "weißer Fleck" in legend


@pytest.mark.parametrize("width", WIDTHS)
def test_network_legend_is_above_the_drawing(page, app_url, width):
    _at_width(page, width)
    _open(page, f"{app_url}/netzwerk")
    frame = network_frame(page)
    legend = frame.evaluate("document.getElementById('legend').getBoundingClientRect().toJSON()")
    canvas = frame.evaluate("document.querySelector('#mynetwork canvas').getBoundingClientRect().toJSON()")
    assert legend["height"] > 0 and legend["bottom"] <= canvas["top"] + 1, (legend, canvas)


def _click_node(page, frame, node: str) -> None:
    """Click ``node`` where vis draws it (canvas coordinates from vis, turned into page coordinates)."""
    if frame.evaluate("network.physics.physicsEnabled"):
        frame.wait_for_function("network.physics.stabilized === true || network.physics.ready === true",
                                timeout=15_000)
    frame.evaluate("network.stopSimulation()")
    point = frame.evaluate(f"network.canvasToDOM(network.getPosition({json.dumps(node)}))")
    canvas = frame.locator("#mynetwork canvas").bounding_box()  # in page coordinates
    assert 0 < point["x"] < canvas["width"] and 0 < point["y"] < canvas["height"], (node, point, canvas)
    page.mouse.click(canvas["x"] + point["x"], canvas["y"] + point["y"])


def _chosen(page) -> str:
    search = page.get_by_test_id("stSelectbox").filter(has_text="Organisation suchen")
    return search.locator("input").input_value()


def _assert_outlined_and_centred(page, node: str) -> None:
    frame = network_frame(page)
    frame.wait_for_function(f"document.body.getAttribute('data-centred') === {json.dumps(node)}", timeout=30_000)
    assert frame.evaluate(f"nodes.get({json.dumps(node)}).borderWidth") == 4
    assert frame.evaluate("nodes.get().filter(n => n.borderWidth === 4).length") == 1
    point = frame.evaluate(f"network.canvasToDOM(network.getPosition({json.dumps(node)}))")
    box = frame.locator("#mynetwork canvas").bounding_box()
    assert abs(point["x"] - box["width"] / 2) < 20 and abs(point["y"] - box["height"] / 2) < 20


def test_clicking_a_node_chooses_it_like_the_select_box(page, app_url):
    """Issue 13: a click on a node fills the details panel, outlines and centres the node; the choice survives
    reruns, and the select box and clicks take turns."""
    _open(page, f"{app_url}/netzwerk")
    _click_node(page, network_frame(page), "org-ronahi")
    wait_for_app(page)
    page.get_by_role("heading", name="Ronahi e.V. Bochum").wait_for(timeout=30_000)
    assert "Ronahi e.V. Bochum" in _chosen(page)
    _assert_outlined_and_centred(page, "org-ronahi")

    # A rerun for something else (the ego toggle) keeps the choice; then a second click changes it.
    page.get_by_test_id("stCheckbox").filter(has_text="Veranstaltungen zeigen").locator("label").click()
    wait_for_app(page)
    assert "Ronahi e.V. Bochum" in _chosen(page)
    _assert_outlined_and_centred(page, "org-ronahi")
    _click_node(page, network_frame(page), "org-behinderung")
    wait_for_app(page)
    page.get_by_role("heading", name="Lebenshilfe Bochum").wait_for(timeout=30_000)
    assert "Lebenshilfe Bochum" in _chosen(page)
    _assert_outlined_and_centred(page, "org-behinderung")

    # The select box takes over again, and a click on the node clicked before still counts.
    search = page.get_by_test_id("stSelectbox").filter(has_text="Organisation suchen")
    search.locator("input").click()
    search.locator("input").fill("IBZ")
    page.get_by_role("option").filter(has_text="IBZ Friedenshaus").first.click()
    wait_for_app(page)
    page.get_by_role("heading", name="IBZ Friedenshaus Bielefeld").wait_for(timeout=30_000)
    _assert_outlined_and_centred(page, "org-ibz")
    frame = network_frame(page)
    frame.evaluate("network.fit({animation: false})")  # Bochum lies outside the view centred on Bielefeld
    _click_node(page, frame, "org-behinderung")
    wait_for_app(page)
    page.get_by_role("heading", name="Lebenshilfe Bochum").wait_for(timeout=30_000)
    _assert_outlined_and_centred(page, "org-behinderung")
    assert exception_count(page) == 0


_TABLE_FIT = """(key) => {
  const box = document.querySelector('.st-key-' + key + ' [data-testid="stTable"]');
  if (!box) { return null; }
  const scroller = box.querySelector('table').parentElement;
  const cells = [...box.querySelectorAll('th, td')];
  const cut = cells.filter(c => c.scrollWidth > c.clientWidth + 1 || c.scrollHeight > c.clientHeight + 1)
                   .map(c => c.innerText.slice(0, 60));
  const main = document.querySelector('[data-testid="stMain"]').getBoundingClientRect();
  const r = box.getBoundingClientRect();
  return {scroll: [scroller.scrollWidth, scroller.clientWidth], cut: cut, cells: cells.length,
          right: r.right, mainRight: main.right,
          headers: [...box.querySelectorAll('th')].map(c => c.innerText.trim())};
}"""


def _assert_table_readable(page, key: str, text_column: str) -> None:
    """The static table ``key`` shows every cell in full: no sideways scrolling, no cell cut, inside the page."""
    page.wait_for_selector(f'.st-key-{key} [data-testid="stTable"] td', timeout=60_000)
    fit = page.evaluate(_TABLE_FIT, key)
    assert text_column in fit["headers"], fit["headers"]
    assert fit["scroll"][0] <= fit["scroll"][1] + 1, f"{key} scrolls sideways: {fit['scroll']}"
    assert not fit["cut"], f"{key}: cells cut off: {fit['cut'][:3]}"
    assert fit["right"] <= fit["mainRight"] + 1


@pytest.mark.parametrize("width", WIDTHS)
def test_meeting_reasons_and_roles_are_readable_without_scrolling(page, app_url, width):
    """Issue 13: at 1024 and 1440 px the invitation list's reasons and roles and the table groups are not cut."""
    _at_width(page, width)
    _open(page, f"{app_url}/treffen")
    _assert_table_readable(page, "meet_invitees", "Begründung")
    _assert_table_readable(page, "meet_groups", "Teilnehmende")
    roles = page.locator('.st-key-meet_invitees td').filter(has_text="isolierte MSO")
    assert roles.count() >= 1  # the role is in the organisation's cell
    page.screenshot(path=str(SCREENSHOTS / f"05b-treffen-tabellen-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_tandem_reasons_are_readable_without_scrolling(page, app_url, width):
    """Issue 13: the proposals (and the cohort) at 1024 and 1440 px: reasons in full, nothing scrolls sideways."""
    _at_width(page, width)
    _open(page, f"{app_url}/tandem")
    search = page.get_by_test_id("stSelectbox").filter(has_text="MSO auswählen")
    search.locator("input").click()
    search.locator("input").fill("agisra")
    page.get_by_role("option").filter(has_text="agisra").first.click()
    wait_for_app(page)
    _assert_table_readable(page, "tandem_table", "Gründe")
    page.get_by_role("tab", name="Kohorte planen (mehrere Tandems)").click()
    page.get_by_test_id("stCheckbox").filter(has_text="Kohorte planen").locator("label").click()
    wait_for_app(page)
    _assert_table_readable(page, "cohort_table", "Gründe")
    page.screenshot(path=str(SCREENSHOTS / f"04b-tandem-tabellen-{width}.png"), full_page=True)


_UPLOADER_TEXT = """() => {
  // What the upload field shows: the text of each element unless its font size is 0, plus ::after content.
  const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
  const shown = [];
  const walk = (el) => {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') { return; }
    for (const node of el.childNodes) {
      if (node.nodeType === 3 && node.textContent.trim() && parseFloat(style.fontSize) > 0) {
        shown.push(node.textContent.trim());
      } else if (node.nodeType === 1 && node.tagName !== 'INPUT'
                 && node.getAttribute('data-testid') !== 'stIconMaterial') { walk(node); }
    }
    const after = getComputedStyle(el, '::after');
    if (after.content && after.content !== 'none' && after.content !== 'normal' && parseFloat(after.fontSize) > 0) {
      shown.push(JSON.parse(after.content));
    }
  };
  walk(zone);
  return shown;
}"""


def test_upload_field_speaks_german(page, app_url):
    """Issue 13: Streamlit's upload field shows German texts (button, limit and kinds, while dragging)."""
    _open(page, f"{app_url}/daten")
    page.get_by_test_id("stFileUploaderDropzone").wait_for()
    expected = ["Dateien auswählen", "CSV, Excel oder JSON, bis 50 MB je Datei"]
    shown = _settled(lambda: page.evaluate(_UPLOADER_TEXT), lambda v: v == expected)
    assert shown == expected, shown

    def boxes() -> tuple[dict, dict]:
        line = page.get_by_test_id("stFileUploaderDropzoneInstructions").locator("span").first.bounding_box()
        return line, page.get_by_test_id("stFileUploaderDropzone").bounding_box()

    def fits(found: tuple[dict, dict]) -> bool:
        line, zone_box = found
        return line["x"] + line["width"] <= zone_box["x"] + zone_box["width"] + 1 and line["width"] > 200

    for width in WIDTHS:  # the German line is not cut at the right edge and takes its room (a cut line is narrow)
        _at_width(page, width)
        found = _settled(boxes, fits)  # the layout follows the new width within a moment
        assert fits(found), (width, *found)
    label = page.get_by_test_id("stFileUploader").get_by_test_id("stWidgetLabel").inner_text()
    assert "Dateien hierher ziehen" in label
    button = page.get_by_test_id("stFileUploaderDropzone").locator("button").first.bounding_box()
    assert button["width"] > 100  # the German label takes room (it is not only the icon)
    zone = page.get_by_test_id("stFileUploaderDropzone")
    files = page.evaluate_handle("() => { const d = new DataTransfer();"
                                 " d.items.add(new File(['a'], 'organisationen.csv', {type: 'text/csv'})); return d; }")
    zone.dispatch_event("dragenter", {"dataTransfer": files})
    while_dragging = _settled(lambda: page.evaluate(_UPLOADER_TEXT), lambda v: "Dateien hier ablegen" in v)
    assert "Dateien hier ablegen" in while_dragging and not any(
        word in " ".join(while_dragging) for word in ("Drag", "Upload", "per file")), while_dragging
    page.screenshot(path=str(SCREENSHOTS / "07b-daten-hochladen.png"))
    zone.dispatch_event("dragleave", {"dataTransfer": files})
    assert exception_count(page) == 0


_RECORD_CANVAS_TEXT = """(() => {
  // Record every text the page paints on a canvas (the data grid draws its cells with fillText).
  window.__drawn = [];
  const fill = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    window.__drawn.push(String(text));
    return fill.call(this, text, ...rest);
  };
})();"""


def test_coverage_table_numbers_are_german_in_an_english_browser(browser, app_url):
    """Issue 13: the coverage table writes numbers like graph.formats (decimal comma, thousands dot), also when
    the browser's language is English; the CSV download keeps numbers Excel reads (comma, no thousands dot)."""
    import re

    context = browser.new_context(viewport={"width": 1440, "height": 1400}, locale="en-US",
                                  accept_downloads=True)
    try:
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        tab.add_init_script(_RECORD_CANVAS_TEXT)
        tab.goto(f"{app_url}/karte")
        wait_for_app(tab)
        grid = tab.locator('[data-testid="stDataFrame"]').first
        grid.wait_for()
        grid.scroll_into_view_if_needed()
        tab.wait_for_function("window.__drawn.some(t => t === 'Einwohner*innen')", timeout=30_000)
        # the grid paints its cells a moment after its headers: wait for a figure and a population
        tab.wait_for_function("window.__drawn.some(t => /^\\d+,\\d$/.test(t)) && "
                              "window.__drawn.some(t => /^\\d{1,3}(\\.\\d{3})+$/.test(t))", timeout=30_000)
        tab.wait_for_timeout(500)
        drawn = tab.evaluate("window.__drawn")
        # The figure (MSO per 100,000) with a decimal comma, populations with thousands dots.
        assert any(re.fullmatch(r"\d+,\d", t) for t in drawn), drawn[:40]
        assert any(re.fullmatch(r"\d{1,3}(\.\d{3})+", t) for t in drawn), drawn[:40]
        assert not [t for t in drawn if re.fullmatch(r"\d+\.\d{1,2}|\d{4,}", t)], "English/unformatted numbers"
        with tab.expect_download() as info:
            tab.get_by_role("button", name="Tabelle als CSV herunterladen").click()
        text = open(info.value.path(), encoding="utf-8-sig").read()
        rows = [line.split(";") for line in text.splitlines()]
        assert rows[0][2] == "MSO je 100.000 Einwohner*innen" and rows[0][6] == "Einwohner*innen"
        populations = [r[6] for r in rows[1:] if r[6]]
        assert populations and all(p.isdigit() for p in populations)  # no thousands dot: Excel reads a number
        assert any("," in r[2] for r in rows[1:])  # decimal comma
    finally:
        context.close()
