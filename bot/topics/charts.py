"""Pictures of a chat's memory as PNG bytes: the map of its topics and a timeline of how often something came up.

matplotlib's object API (Figure + the Agg canvas, no pyplot): no global state, so a picture can be drawn in a
worker thread while the bot goes on. Sized for a phone: 1600 px wide, fonts of 13-22 px, a legend.
adjustText moves the topics' labels apart so none covers another.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.i18n import N_, _

WIDTH_PX, MAP_HEIGHT_PX, TIMELINE_HEIGHT_PX = 1600, 1100, 700
DPI = 100
LABELLED = 15  # topics named on the map (the largest); the legend lists as many
NOISE_COLOUR = "#b8b8b8"
# The words drawn are in the language current where the picture is drawn (the worker is told: bot.i18n.using).
PER_UNIT = {"week": N_("messages per week"), "month": N_("messages per month")}


@dataclass
class MapTopic:
    id: int
    label: str
    size: int


def _palette(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % 20) for i in range(n)]


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def topic_map(points: np.ndarray, labels: np.ndarray, bot: np.ndarray, topics: Sequence[MapTopic], *, title: str,
              note: str = "") -> bytes:
    """Messages as points in 2-D coloured by topic (label per point; <= 0 is noise, grey), the bot's messages as
    triangles and people's as circles, each of the largest topics named at its centre; `note` under the title."""
    from adjustText import adjust_text
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    figure = Figure(figsize=(WIDTH_PX / DPI, MAP_HEIGHT_PX / DPI), dpi=DPI)
    ax = figure.add_axes((0.02, 0.03, 0.66, 0.86))
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    colours = dict(zip((t.id for t in topics), _palette(len(topics))))
    size = float(np.clip(30000 / max(len(points), 1), 4, 60))
    if len(points) > 20:  # far islands (repeated texts) would shrink the rest to a dot: frame the bulk
        low, high = np.quantile(points, 0.01, axis=0), np.quantile(points, 0.99, axis=0)
        margin = (high - low) * 0.06
        ax.set_xlim(low[0] - margin[0], high[0] + margin[0])
        ax.set_ylim(low[1] - margin[1], high[1] + margin[1])
    for is_bot, marker in ((False, "o"), (True, "^")):
        chosen = bot == is_bot
        noise = chosen & (labels <= 0)
        ax.scatter(points[noise, 0], points[noise, 1], s=size * 0.7, c=NOISE_COLOUR, marker=marker, alpha=0.5,
                   linewidths=0, rasterized=True)
        shown = chosen & (labels > 0)
        ax.scatter(points[shown, 0], points[shown, 1], s=size, c=[colours.get(int(t), NOISE_COLOUR) for t in
                   labels[shown]], marker=marker, alpha=0.8, linewidths=0, rasterized=True)
    texts = []
    for t in topics[:LABELLED]:
        members = points[labels == t.id]
        if len(members):
            x, y = np.clip(np.median(members, axis=0), *np.transpose([ax.get_xlim(), ax.get_ylim()]))
            texts.append(ax.text(x, y, f"{t.id} {t.label}", fontsize=14, weight="bold", ha="center", va="center",
                                 bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": colours[t.id],
                                       "alpha": 0.85}))
    if texts:
        adjust_text(texts, ax=ax, expand=(1.15, 1.3), arrowprops={"arrowstyle": "-", "color": "#555555", "lw": 0.8})
    handles = [Line2D([], [], ls="", marker="s", ms=12, color=colours[t.id], label=f"{t.id}. {t.label} ({t.size})")
               for t in topics[:LABELLED]]
    handles += [Line2D([], [], ls="", marker="s", ms=12, color=NOISE_COLOUR, label=_("no topic")),
                Line2D([], [], ls="", marker="o", ms=10, color="#444444", label=_("people")),
                Line2D([], [], ls="", marker="^", ms=10, color="#444444", label=_("Engram (the bot)"))]
    figure.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.69, 0.89), fontsize=13, frameon=False,
                  title=_("Topics (messages)"), title_fontsize=15, alignment="left")
    figure.text(0.02, 0.965, title, fontsize=22, weight="bold", va="top")
    if note:
        figure.text(0.02, 0.925, note, fontsize=14, color="#444444", va="top")
    return _png(figure)


def timeline(buckets: Sequence[str], counts: Sequence[int], *, title: str, unit: str) -> bytes:
    """Bars: how many messages each week or month (`unit`) held, oldest left."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_PX / DPI, TIMELINE_HEIGHT_PX / DPI), dpi=DPI)
    ax = figure.add_axes((0.07, 0.2, 0.9, 0.66))
    x = np.arange(len(buckets))
    ax.bar(x, counts, color="#3b75af", width=0.8)
    step = max(1, len(buckets) // 16)  # at most ~16 readable tick labels
    ax.set_xticks(x[::step], [buckets[i] for i in range(0, len(buckets), step)], rotation=45, ha="right",
                  fontsize=13)
    ax.tick_params(axis="y", labelsize=13)
    ax.set_ylabel(_(PER_UNIT.get(unit, unit)), fontsize=14)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    figure.text(0.07, 0.95, title, fontsize=20, weight="bold", va="top")
    return _png(figure)
