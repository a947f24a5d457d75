"""A latency chart (PNG) of a session's metrics; needs ``pip install 'voiceagent[charts]'``."""

from __future__ import annotations

from pathlib import Path

from .metrics import SessionMetrics

__all__ = ["plot_latency"]


def plot_latency(metrics: SessionMetrics, path: str | Path, *, title: str | None = None) -> Path:
    """Draw each turn's time to first audio (received and played) and barge-in reaction.

    One group of bars per turn: speech end -> first audio received, -> first audio played,
    and (for interrupted turns) speech start -> playback silent. Tool time, when a turn ran
    tools, is drawn as a marker. A dashed line marks the median time to first audio played.

    Args:
        metrics: ``session.metrics``.
        path: Where to write the PNG.
        title: The chart's title; a default names the number of turns.

    Returns:
        The path written.

    Raises:
        ImportError: matplotlib is missing (the message says how to install it).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never opens a window
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"the latency chart needs matplotlib: pip install 'voiceagent[charts]' ({exc})"
        ) from exc
    turns = metrics.turns
    numbers = [t.turn for t in turns]
    series = [
        ("first audio received", [t.first_audio_received_ms for t in turns], "#4C72B0"),
        ("first audio played", [t.first_audio_played_ms for t in turns], "#55A868"),
        ("barge-in -> silent", [t.barge_in_reaction_ms for t in turns], "#C44E52"),
    ]
    width = 0.27
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(turns) + 3), 4.0), dpi=100)
    try:
        for index, (label, values, color) in enumerate(series):
            xs = [
                n + (index - 1) * width
                for n, v in zip(numbers, values, strict=True)
                if v is not None
            ]
            ys = [v for v in values if v is not None]
            ax.bar(xs, ys, width=width, label=label, color=color)
        tools = [(t.turn, sum(ms for _, ms in t.tool_durations_ms)) for t in turns]
        tools = [(n, ms) for n, ms in tools if ms > 0]
        if tools:
            ax.scatter(
                [n for n, _ in tools],
                [ms for _, ms in tools],
                marker="D",
                color="black",
                label="tool time",
                zorder=3,
            )
        median = metrics.summary()["first_audio_played_ms"]["p50"]
        if median is not None:
            ax.axhline(median, color="#55A868", linestyle="--", linewidth=1)
        ax.set_xlabel("turn")
        ax.set_ylabel("milliseconds")
        ax.set_xticks(numbers)
        ax.set_title(title or f"voiceagent latency per turn ({len(turns)} turns)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        out = Path(path)
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out
