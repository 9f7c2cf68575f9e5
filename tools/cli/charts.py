"""What every ``--chart`` option shares: matplotlib's Agg backend (the ``reports`` extra) and saving one
figure as PNG and SVG with no timestamps, so the same data draws the same files on every run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mynacard.tools.cli.exits import CliError

REPORTS_EXTRA = "pip install 'mynacard[reports]'"
"""How to get the plotting library ``--chart`` needs (matplotlib)."""

CHART_DPI = 100


def pyplot(salt: str) -> Any:
    """``matplotlib.pyplot`` on the Agg backend; ``salt`` fixes the SVG element ids of one chart kind."""
    try:
        import matplotlib
    except ImportError:
        raise CliError(f"--chart needs matplotlib, the 'reports' extra: {REPORTS_EXTRA}") from None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = salt
    import matplotlib.pyplot as plt

    return plt


def save(figure: Any, directory: Path, stem: str) -> list[Path]:
    """``stem.png`` and ``stem.svg`` in ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{stem}.png", directory / f"{stem}.svg"]
    figure.savefig(paths[0], dpi=CHART_DPI, metadata={"Software": None})
    figure.savefig(paths[1], metadata={"Date": None})
    return paths
