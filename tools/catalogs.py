"""Every translation catalog in one table: `python -m tools.catalogs extract|compile`.

Three catalogs: the theme's (`messages`, shared by the static site and both apps' frame),
the intake's (`intake`, in every site language) and the desk's (`desk`, English source and
Japanese). `extract` refreshes each template from the sources with the one mapping file,
babel.cfg, and merges new strings into every language's catalog; `compile` writes the
`.mo` files the apps load (build output, never committed). The Makefile, the tests and the
app image all compile through this module.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "babel.cfg"
# The catalogs' line width, as they were first written: a refresh changes only what changed.
WIDTH = 100


@dataclass(frozen=True)
class Catalog:
    """One message domain: where its catalogs live and which sources hold its strings."""

    directory: str
    domain: str
    sources: tuple[str, ...]
    keywords: tuple[str, ...]
    default_keywords: bool = True

    @property
    def template(self) -> Path:
        """Return the catalog template (.pot) of this domain."""
        return ROOT / self.directory / f"{self.domain}.pot"

    def po_files(self, root: Path = ROOT) -> Iterator[Path]:
        """Yield every language's catalog of this domain under root."""
        yield from sorted((root / self.directory).glob(f"*/LC_MESSAGES/{self.domain}.po"))


CATALOGS = (
    # The theme's strings go through _() only; the plugins' gettext(code, text) calls are
    # looked up at build time, so default keywords would find nothing more.
    Catalog(
        "theme/translations",
        "messages",
        ("theme/templates", "site/plugins"),
        ("_", "N_"),
        default_keywords=False,
    ),
    Catalog("form_service/translations", "intake", ("form_service/intake",), ("_l",)),
    Catalog("form_service/translations", "desk", ("form_service/review",), ("_l",)),
)


def compile_all(root: Path = ROOT) -> list[Path]:
    """Compile each catalog whose .mo is missing or older than its .po; return those written."""
    written = []
    for catalog in CATALOGS:
        for po_path in catalog.po_files(root):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            with po_path.open("rb") as po_file:
                messages = read_po(po_file, locale=po_path.parent.parent.name)
            # Atomic: a parallel test worker or a starting app never reads half a file.
            partial = mo_path.with_suffix(f".mo.{os.getpid()}")
            with partial.open("wb") as mo_file:
                write_mo(mo_file, messages)
            partial.replace(mo_path)
            written.append(mo_path)
    return written


def pybabel(*args: str) -> None:
    """Run the pybabel command of this environment from the repository root."""
    command = [str(Path(sys.executable).parent / "pybabel"), *args]
    subprocess.run(command, check=True, cwd=ROOT)


def extract_all() -> None:
    """Refresh every template from its sources and merge new strings into each language."""
    for catalog in CATALOGS:
        keywords = [arg for keyword in catalog.keywords for arg in ("-k", keyword)]
        if not catalog.default_keywords:
            keywords.insert(0, "--no-default-keywords")
        pybabel(
            "extract",
            "-F",
            str(MAPPING),
            *keywords,
            "--no-location",
            "--omit-header",
            "--sort-output",
            f"--width={WIDTH}",
            "-o",
            str(catalog.template),
            *catalog.sources,
        )
        for po_path in catalog.po_files():
            locale = po_path.parent.parent.name
            pybabel(
                "update",
                "-i",
                str(catalog.template),
                "-o",
                str(po_path),
                "-l",
                locale,
                "-D",
                catalog.domain,
                "--no-fuzzy-matching",
                "--ignore-pot-creation-date",
                f"--width={WIDTH}",
            )


def main() -> None:
    """Parse the command line and extract or compile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["extract", "compile"])
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="the checkout to compile (default: this one; the app image passes /app)",
    )
    args = parser.parse_args()
    if args.command == "extract":
        extract_all()
    else:
        for path in compile_all(args.root):
            print(f"compiled {path.relative_to(args.root)}")


if __name__ == "__main__":
    main()
