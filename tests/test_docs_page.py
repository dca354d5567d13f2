"""The interactive docs page: served whole from the package, nothing external."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from datasource.api.meta import DOCS_ASSETS, DOCS_DIRECTORY

JAVASCRIPT_TYPES = {"text/javascript", "application/javascript"}


class _ReferenceCollector(HTMLParser):
    """Collect every URL an HTML page refers to, and its data attributes."""

    def __init__(self):
        super().__init__()
        self.references = []
        self.assets = []
        self.data = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name in {"src", "href", "action", "poster"} and value is not None:
                self.references.append(value)
            elif name.startswith("data-"):
                self.data[name] = value
        if tag == "script" and "src" in attributes:
            self.assets.append(attributes["src"])
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.assets.append(attributes["href"])


def _collect(html):
    collector = _ReferenceCollector()
    collector.feed(html)
    return collector


def _is_local(url):
    parts = urlsplit(url)
    return parts.scheme == "data" or not (parts.scheme or parts.netloc)


@pytest.fixture
def page(client):
    return client.get("/-/docs")


def test_docs_page_is_html(page):
    assert page.status_code == 200
    assert page.mimetype == "text/html"


def test_docs_page_refers_to_local_urls_only(page):
    references = _collect(page.get_data(as_text=True)).references

    assert references
    assert [url for url in references if not _is_local(url)] == []


def test_docs_page_points_at_openapi_document(page):
    data = _collect(page.get_data(as_text=True)).data

    assert data["data-openapi-url"] == "/-/openapi.json"


def test_docs_page_policy_allows_this_origin_only(page):
    policy = page.headers["Content-Security-Policy"]

    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert "http" not in policy


def test_docs_page_assets_are_served_with_media_types(client, page):
    media_types = {}
    for url in _collect(page.get_data(as_text=True)).assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.content_length and response.content_length > 0
        media_types[url.rsplit("/", 1)[-1]] = response.mimetype
        response.close()

    assert set(media_types) == set(DOCS_ASSETS)
    assert media_types["swagger-ui.css"] == "text/css"
    assert media_types["swagger-ui-bundle.js"] in JAVASCRIPT_TYPES
    assert media_types["docs.js"] in JAVASCRIPT_TYPES


@pytest.mark.parametrize(
    "name",
    ["docs.html", "LICENSE", "README.md", "missing.js", "..%2Fapi%2Fmeta.py"],
)
def test_docs_asset_route_unknown_name_returns_404(client, name):
    response = client.get(f"/-/static/docs/{name}")

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_docs_initializer_disables_online_validator():
    initializer = (DOCS_DIRECTORY / "docs.js").read_text()

    assert "validatorUrl: null" in initializer
    assert "://" not in initializer


def test_docs_assets_state_their_origin_and_licence():
    notice = (DOCS_DIRECTORY / "README.md").read_text()

    assert "swagger-ui-dist" in notice
    assert "Apache License" in (DOCS_DIRECTORY / "LICENSE").read_text()
