"""The built site: every page in every language, with the theme's landmarks and links."""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from bs4 import BeautifulSoup, Tag

from tests.site.conftest import LANG_CODES, LANGUAGES, SITE_ORIGIN, SLUGS, BuiltSite, page_path

HTML_LANG = {lang["code"]: lang["html_lang"] for lang in LANGUAGES}
ALL_PAGES = [(lang, slug) for lang in LANG_CODES for slug in SLUGS]
# Routes served by the form service, not by the static build.
SERVICE_ROUTES = {f"/form/{lang}/" for lang in LANG_CODES} | {
    f"/form/{lang}/check/" for lang in LANG_CODES
}
IR_ANCHORS = [
    "united-nations",
    "general-assembly",
    "special-rapporteur",
    "secretary-general",
    "security-council",
    "summit-meetings",
    "various-countries",
]


def test_the_english_pages_are_the_expected_set() -> None:
    assert (
        sorted(
            [
                "abduction-issue",
                "accessibility",
                "anime-megumi",
                "home",
                "international-recognition",
                "not-found",
                "pr-campaigns",
                "privacy",
                "request-for-information",
            ]
        )
        == SLUGS
    )


@pytest.mark.parametrize(("lang", "slug"), ALL_PAGES)
def test_every_page_exists_in_every_language(built_site: BuiltSite, lang: str, slug: str) -> None:
    soup = built_site.soup(page_path(lang, slug))
    assert soup.html is not None
    assert soup.html["lang"] == HTML_LANG[lang]
    assert soup.find("h1") is not None


@pytest.mark.parametrize("lang", LANG_CODES)
def test_international_recognition_has_its_sections_and_figures(
    built_site: BuiltSite, lang: str
) -> None:
    soup = built_site.soup(page_path(lang, "international-recognition"))
    main = soup.find("main")
    assert isinstance(main, Tag)
    headings = [h["id"] for h in main.find_all(["h2", "h3"]) if h.get("id") in IR_ANCHORS]
    assert headings == IR_ANCHORS
    contents = main.find("nav", class_="page-contents")
    assert isinstance(contents, Tag)
    assert [a["href"] for a in contents.find_all("a")][:7] == [f"#{a}" for a in IR_ANCHORS]
    figures = main.find_all("figure")
    assert len(figures) == 3
    for figure in figures:
        image, caption = figure.find("img"), figure.find("figcaption")
        assert image is not None and caption is not None
        assert len(image.get("alt", "").strip()) > 10
        assert caption.get_text(strip=True)
        assert (built_site.root / urlsplit(image["src"]).path.lstrip("/")).is_file()


def intrinsic_size(file: Path) -> tuple[int, int]:
    """Read an image's own size, independently of the build plugin."""
    if file.suffix == ".svg":
        svg = BeautifulSoup(file.read_text(encoding="utf-8"), "html.parser").find("svg")
        return int(svg["width"]), int(svg["height"])
    from PIL import Image

    with Image.open(file) as image:
        return image.size


def test_site_images_carry_their_size_and_a_fingerprint(built_site: BuiltSite) -> None:
    checked = 0
    for source in built_site.html_files():
        soup = built_site.soup(str(source.relative_to(built_site.root)))
        for image in soup.find_all("img"):
            parts = urlsplit(image["src"])
            file = built_site.root / parts.path.lstrip("/")
            # A reserved box of the right shape: no layout shift when the image arrives.
            assert (int(image["width"]), int(image["height"])) == intrinsic_size(file), source
            # A new file gets a new URL, so nginx may cache /images/?v= for a year.
            version = hashlib.sha256(file.read_bytes()).hexdigest()[:12]
            assert parts.query == f"v={version}", source
            checked += 1
    assert checked == 3 * len(LANG_CODES)


@pytest.mark.parametrize("lang", LANG_CODES)
def test_external_links_are_marked_in_the_page_language(built_site: BuiltSite, lang: str) -> None:
    from site_languages import gettext
    from site_markup import EXTERNAL_LABEL  # site/plugins is on sys.path via pelicanconf

    soup = built_site.soup(page_path(lang, "international-recognition"))
    outbound = [
        a
        for a in soup.find_all("a", href=True)
        if a["href"].startswith("http") and not a["href"].startswith(SITE_ORIGIN)
    ]
    hosts = {urlsplit(a["href"]).netloc for a in outbound}
    assert len(outbound) >= 3 and hosts <= {"press.un.org", "undocs.org"}
    label = gettext(lang, EXTERNAL_LABEL)
    if lang != "en":
        assert label != EXTERNAL_LABEL
    # Japanese and Chinese write the brackets full-width (U+FF08), with no space before them.
    full_width = lang in {"ja", "zh-hans"}
    assert label.startswith("\uff08" if full_width else "(")
    for link in outbound:
        assert link["rel"] == ["noreferrer"]
        marker = link.find("span", class_="external-label")
        assert marker is not None and marker is link.contents[-1]
        assert marker.string == (label if full_width else f" {label}")


def landmarks_of(soup: BeautifulSoup) -> dict[str, Tag]:
    """Return the page's header, main and footer landmarks and its labelled navs."""
    found = {name: soup.find(name) for name in ("header", "main", "footer")}
    for nav in soup.find_all("nav"):
        if nav.get("aria-label"):
            found[f"nav:{nav['class'][0]}"] = nav
    return {key: value for key, value in found.items() if isinstance(value, Tag)}


@pytest.mark.parametrize(("lang", "slug"), ALL_PAGES)
def test_every_page_has_the_theme_landmarks(built_site: BuiltSite, lang: str, slug: str) -> None:
    soup = built_site.soup(page_path(lang, slug))
    landmarks = landmarks_of(soup)
    for name in (
        "header",
        "main",
        "footer",
        "nav:breadcrumbs",
        "nav:language-switcher",
        "nav:site-nav",
    ):
        assert name in landmarks, name
    skip = soup.find("a", class_="skip-link")
    assert skip is soup.body.find("a"), "the skip link comes first"
    assert skip["href"] == "#main" and landmarks["main"]["id"] == "main"

    crumbs = landmarks["nav:breadcrumbs"].find("ol").find_all("li")
    assert crumbs[-1].get("aria-current") == "page"
    if slug != "home":
        assert len(crumbs) == 2
        assert crumbs[0].a["href"] == f"/{lang}/"
        assert crumbs[-1].get_text(strip=True) == soup.h1.get_text(strip=True)

    switcher = landmarks["nav:language-switcher"].find_all("a")
    assert [a["hreflang"] for a in switcher] == [HTML_LANG[c] for c in LANG_CODES]
    assert all(a["lang"] == a["hreflang"] for a in switcher)
    current = [a for a in switcher if a.get("aria-current")]
    assert [a["hreflang"] for a in current] == [HTML_LANG[lang]]
    assert [a["href"] for a in switcher] == [
        "/" + page_path(code, slug).removesuffix("index.html") for code in LANG_CODES
    ]


@pytest.mark.parametrize(("lang", "slug"), ALL_PAGES)
def test_every_page_links_its_alternates(built_site: BuiltSite, lang: str, slug: str) -> None:
    soup = built_site.soup(page_path(lang, slug))
    alternates = {link["hreflang"]: link["href"] for link in soup.find_all("link", rel="alternate")}
    expected = {
        HTML_LANG[code]: SITE_ORIGIN + "/" + page_path(code, slug).removesuffix("index.html")
        for code in LANG_CODES
    }
    assert {k: v for k, v in alternates.items() if k != "x-default"} == expected
    canonical = soup.find("link", rel="canonical")
    if slug == "not-found":
        assert canonical is None
        assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    else:
        # A reader whose language the site lacks gets the chooser at / from a home page,
        # and the English version from any other page.
        x_default = SITE_ORIGIN + "/" if slug == "home" else expected["en"]
        assert alternates["x-default"] == x_default
        assert canonical["href"] == expected[HTML_LANG[lang]]


def resolve(built_site: BuiltSite, source: Path, href: str) -> tuple[Path, str] | None:
    """Map a link to the built file and fragment it points at (None if it leaves the site)."""
    url, fragment = urldefrag(href)
    if url.startswith(SITE_ORIGIN):
        url = url.removeprefix(SITE_ORIGIN) or "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    if not parts.path:
        return source, fragment
    if parts.path.startswith("/"):
        target = built_site.root / parts.path.lstrip("/")
    else:
        target = source.parent / parts.path
    if parts.path.endswith("/"):
        target = target / "index.html"
    return target.resolve(), fragment


def test_every_internal_link_and_anchor_resolves(built_site: BuiltSite) -> None:
    broken = []
    checked = 0
    for source in built_site.html_files():
        soup = built_site.soup(str(source.relative_to(built_site.root)))
        for element in soup.find_all(href=True) + soup.find_all(src=True):
            href = element.get("href") or element.get("src")
            if urlsplit(href).path in SERVICE_ROUTES and not urlsplit(href).netloc:
                continue
            resolved = resolve(built_site, source, href)
            if resolved is None:
                continue
            target, fragment = resolved
            checked += 1
            if not target.is_file():
                broken.append(f"{source.relative_to(built_site.root)}: {href}")
                continue
            if fragment and target.suffix == ".html":
                relative = str(target.relative_to(built_site.root))
                if built_site.soup(relative).find(id=fragment) is None:
                    broken.append(f"{source.relative_to(built_site.root)}: {href} (no anchor)")
    assert checked > 500
    assert broken == []


def test_the_form_links_go_to_the_service_in_the_same_language(built_site: BuiltSite) -> None:
    for lang in LANG_CODES:
        soup = built_site.soup(page_path(lang, "request-for-information"))
        assert soup.find("main").find("a", href=f"/form/{lang}/") is not None
        assert soup.find("main").find("a", href=f"/form/{lang}/check/") is not None


# Elements and attributes that make a browser fetch something by itself.
FETCHING = {
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
    "object": "data",
    "track": "src",
    "input": "src",
}


def test_no_page_fetches_from_another_host(built_site: BuiltSite) -> None:
    offenders = []
    for source in built_site.html_files():
        soup = built_site.soup(str(source.relative_to(built_site.root)))
        for tag, attribute in FETCHING.items():
            for element in soup.find_all(tag, attrs={attribute: True}):
                if urlsplit(element[attribute]).netloc:
                    offenders.append(f"{source.name}: <{tag} {attribute}={element[attribute]}>")
        for link in soup.find_all("link", href=True):
            rel = set(link.get("rel", []))
            host = urlsplit(link["href"]).netloc
            if rel & {"canonical", "alternate"}:
                assert link["href"].startswith(SITE_ORIGIN)
            elif host:
                offenders.append(f"{source.name}: <link rel={rel} href={link['href']}>")
        for element in soup.find_all(srcset=True):
            offenders.append(f"{source.name}: srcset {element['srcset']}")
    stylesheet = (built_site.root / "theme" / "css" / "site.css").read_text(encoding="utf-8")
    assert "@import" not in stylesheet and "@font-face" not in stylesheet
    assert re.findall(r"url\(", stylesheet) == []
    for image in (built_site.root / "images").glob("*.svg"):
        text = image.read_text(encoding="utf-8")
        assert "<script" not in text and 'href="http' not in text and "@import" not in text
    assert offenders == []


def test_no_page_has_inline_script_or_style(built_site: BuiltSite) -> None:
    for source in built_site.html_files():
        soup = built_site.soup(str(source.relative_to(built_site.root)))
        assert soup.find("script") is None, source
        assert soup.find("style") is None, source
        for element in soup.find_all(True):
            assert "style" not in element.attrs, (source, element.name)
            assert not [a for a in element.attrs if a.lower().startswith("on")], source


@pytest.mark.parametrize("lang", LANG_CODES[1:])
def test_translations_keep_the_structure_of_the_english_pages(
    built_site: BuiltSite, lang: str
) -> None:
    for slug in SLUGS:
        english = built_site.soup(page_path("en", slug)).find("main")
        other = built_site.soup(page_path(lang, slug)).find("main")
        ids = [[h.get("id") for h in m.find_all(["h2", "h3"])] for m in (english, other)]
        assert ids[1] == ids[0], slug
        assert len(other.find_all("figure")) == len(english.find_all("figure")), slug
        assert len(other.find_all("a")) == len(english.find_all("a")), slug


# Pages whose heading is the source page's own, under a menu entry that names the section:
# International Recognition is headed "The International Community Stands in Solidarity
# with Japan" (also its breadcrumb), as on the source site.
SECTION_PAGES = {"international-recognition"}


@pytest.mark.parametrize("lang", LANG_CODES)
def test_menu_labels_match_the_page_titles(built_site: BuiltSite, lang: str) -> None:
    soup = built_site.soup(page_path(lang, "home"))
    on_this_site = {
        a["href"]: a.get_text(strip=True) for a in soup.find("main").find_all("a", href=True)
    }
    for link in soup.find("nav", class_="site-nav").find_all("a"):
        slug = link["href"].strip("/").split("/")[-1]
        page = built_site.soup(page_path(lang, slug))
        label, heading = link.get_text(strip=True), page.h1.get_text(strip=True)
        if slug in SECTION_PAGES:
            assert label != heading, (lang, slug)
            # The section name is the one the home page's list uses for the page.
            assert on_this_site[link["href"]] == label, (lang, slug)
        else:
            assert label == heading, (lang, slug)


def test_the_root_is_a_language_chooser(built_site: BuiltSite) -> None:
    soup = built_site.soup("index.html")
    links = soup.find("main").find_all("a")
    assert [a["href"] for a in links] == [f"/{code}/" for code in LANG_CODES]
    assert soup.find("link", rel="canonical")["href"] == SITE_ORIGIN + "/"
    alternates = {link["hreflang"]: link["href"] for link in soup.find_all("link", rel="alternate")}
    # The same hreflang set as every home page, x-default included.
    home = built_site.soup(page_path("en", "home"))
    assert alternates == {
        link["hreflang"]: link["href"] for link in home.find_all("link", rel="alternate")
    }
    assert alternates["x-default"] == SITE_ORIGIN + "/"


def test_the_sitemap_lists_every_page_with_its_alternates(built_site: BuiltSite) -> None:
    namespaces = {
        "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
        "x": "http://www.w3.org/1999/xhtml",
    }
    tree = ET.parse(built_site.root / "sitemap.xml")  # noqa: S314 (our own build output)
    urls = tree.getroot().findall("s:url", namespaces)
    indexable = [slug for slug in SLUGS if slug != "not-found"]
    pages = {"/": "index.html"} | {
        "/" + page_path(lang, slug).removesuffix("index.html"): page_path(lang, slug)
        for lang in LANG_CODES
        for slug in indexable
    }
    locs = [url.findtext("s:loc", namespaces=namespaces) for url in urls]
    assert sorted(locs) == sorted(SITE_ORIGIN + path for path in pages)
    for url, loc in zip(urls, locs, strict=True):
        alternates = {a.get("hreflang"): a.get("href") for a in url.findall("x:link", namespaces)}
        assert len(alternates) == len(LANG_CODES) + 1
        assert loc in alternates.values()
        # The sitemap says what the page itself says, x-default included.
        soup = built_site.soup(pages[loc.removeprefix(SITE_ORIGIN)])
        assert alternates == {
            link["hreflang"]: link["href"] for link in soup.find_all("link", rel="alternate")
        }


def test_robots_and_favicon_are_local(built_site: BuiltSite) -> None:
    robots = (built_site.root / "robots.txt").read_text()
    assert f"Sitemap: {SITE_ORIGIN}/sitemap.xml" in robots
    assert "Disallow: /staff/" in robots
    favicon = (built_site.root / "favicon.svg").read_text()
    assert favicon.startswith("<svg") and "http://www.w3.org/2000/svg" in favicon
