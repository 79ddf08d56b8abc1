"""The benchmark workspace: generated CSV datasets and loaded embedded stores, built once and reused."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["Context", "TODAY", "default_workdir", "generate_dataset", "load_store"]

#: Reference date of the generated data (its ``updated``, last funding year) and of the analyses.
TODAY = date(2026, 11, 1)


def default_workdir() -> Path:
    """Where datasets and stores are kept between runs (``$TMPDIR/msonet-bench``)."""
    return Path(tempfile.gettempdir()) / "msonet-bench"


def generate_dataset(orgs: int, seed: int, out: Path) -> dict[str, int]:
    """Write the five CSV files of a synthetic dataset (``bench/generate.py``) into ``out``."""
    from bench.generate import write_csv
    from msonet.loaders.geography import load_districts, load_municipalities
    from msonet.loaders.synthetic import generate

    batch = generate(orgs, seed, municipalities=load_municipalities(), districts=load_districts(), today=TODAY)
    return write_csv(batch, out)


def load_store(data: Path, home: Path) -> Any:
    """Load every CSV of ``data`` into a fresh embedded store at ``home``; returns the store."""
    from msonet.graph.store import EmbeddedStore
    from msonet.loaders.load import load_files

    shutil.rmtree(home, ignore_errors=True)
    store = EmbeddedStore(home)
    load_files(sorted(data.glob("*.csv")), store)
    return store


@dataclass
class Context:
    """What every benchmark gets: sizes, repetitions and the shared (cached) data.

    Parameters
    ----------
    orgs
        Number of organisations of the synthetic dataset (relations are about ten times as many).
    runs
        Runs per measurement; the median is reported. Slow items may use fewer (they say so).
    quick
        Small smoke run: fewer queries, small browser views.
    workdir
        Folder for datasets and stores; they are reused by later runs with the same size and seed.
    """

    orgs: int = 100_000
    runs: int = 3
    quick: bool = False
    seed: int = 1
    workdir: Path = field(default_factory=default_workdir)
    log: Any = print
    _graph: Any = None

    def _ready(self, folder: Path) -> bool:
        return (folder / ".complete").exists()

    @property
    def data_dir(self) -> Path:
        """The CSV files of the dataset (generated on first use)."""
        folder = self.workdir / f"data-{self.orgs}-s{self.seed}"
        if not self._ready(folder):
            shutil.rmtree(folder, ignore_errors=True)
            self.log(f"  erzeuge synthetischen Datensatz mit {self.orgs:,} Organisationen in {folder} …")
            start = time.perf_counter()
            generate_dataset(self.orgs, self.seed, folder)
            (folder / ".complete").write_text(f"{time.perf_counter() - start:.1f}\n")
        return folder

    @property
    def csv_files(self) -> list[Path]:
        return sorted(self.data_dir.glob("*.csv"))

    @property
    def store_home(self) -> Path:
        """An embedded store holding the dataset (loaded on first use)."""
        folder = self.workdir / f"store-{self.orgs}-s{self.seed}"
        if not self._ready(folder):
            data = self.data_dir
            self.log(f"  lade den Datensatz in den eingebetteten Speicher {folder} …")
            load_store(data, folder)
            (folder / ".complete").write_text("ok\n")
        return folder

    def adopt_store(self, home: Path) -> None:
        """Keep a store the load benchmark has just built as the shared store (saves loading it again)."""
        folder = self.workdir / f"store-{self.orgs}-s{self.seed}"
        if home == folder or self._ready(folder):
            return
        shutil.rmtree(folder, ignore_errors=True)
        shutil.move(str(home), str(folder))
        (folder / ".complete").write_text("ok\n")

    def graph(self):
        """The whole graph as analytics see it (``store.to_networkx()`` of the shared store), cached."""
        if self._graph is None:
            from msonet.graph.store import EmbeddedStore

            self._graph = EmbeddedStore(self.store_home).graph_view()
        return self._graph

    def districts(self) -> dict[str, Any]:
        from msonet.loaders.geography import load_districts

        return load_districts()

    def demo_home(self) -> Path:
        """An embedded store with the demo data (``msonet demo``), built on first use."""
        folder = self.workdir / "store-demo"
        if not self._ready(folder):
            from msonet.graph.store import EmbeddedStore
            from msonet.loaders.demo import build_demo_batch

            shutil.rmtree(folder, ignore_errors=True)
            EmbeddedStore(folder).upsert(build_demo_batch(seed=2024))
            (folder / ".complete").write_text("ok\n")
        return folder
