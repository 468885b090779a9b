"""Latency-percentile charts as hand-written SVG (no plotting dependency).

The chart is the HdrHistogram classic: x is the percentile on a log "1/(1-p)" axis, so
p50, p90, p99, p99.9 ... are equally spaced and the tail gets the room it deserves; y is the
latency in ms on a log axis, because a p50 of 0.1 ms and a p99.99 of 10 ms must both be
readable. Input is shardis-bench's `percentiles` walk ([{percentile, value_ms}, ...]).
"""
import math
from xml.sax.saxutils import escape

COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

# Percentile 100 has no finite 1/(1-p); plot it (the max) at this many nines at most.
MAX_NINES = 6


def nines(percentile):
    """x coordinate of a percentile: log10(1/(1-p)). 0 -> 0, 90 -> 1, 99 -> 2, 99.9 -> 3."""
    rest = 1.0 - percentile / 100.0
    if rest <= 10 ** -MAX_NINES:
        return float(MAX_NINES)
    return -math.log10(rest)


def series_points(percentiles):
    """(nines, value_ms) pairs of a percentile walk; drops non-positive latencies (log axis)
    and clamps p100 just past the last finite point, so the max still shows."""
    pts = []
    for row in percentiles:
        v = row["value_ms"]
        if v <= 0:
            continue
        p = row["percentile"]
        if p >= 100.0:
            last = pts[-1][0] if pts else 0.0
            pts.append((min(float(MAX_NINES), last + 0.3), v))
        else:
            pts.append((nines(p), v))
    return pts


def log_ticks(lo, hi):
    """1-2-5 ticks covering [lo, hi] (lo > 0), for a log axis."""
    ticks = []
    e = math.floor(math.log10(lo))
    while True:
        for m in (1, 2, 5):
            t = m * 10 ** e
            if t > hi * 1.0001:
                return ticks
            if t >= lo * 0.9999:
                ticks.append(t)
        e += 1


def axis_range(values):
    """A log range [10^a, 10^b] a little wider than the data, snapped to 1-2-5 steps."""
    lo, hi = min(values), max(values)
    snaps = (1, 2, 5, 10)
    e = math.floor(math.log10(lo))
    lo_s = max(m * 10 ** e for m in snaps if m * 10 ** e <= lo)
    e = math.floor(math.log10(hi))
    hi_s = min(m * 10 ** e for m in snaps if m * 10 ** e >= hi)
    if hi_s <= lo_s:
        hi_s = lo_s * 10
    return lo_s, hi_s


def fmt_ms(v):
    return f"{v:g}"


def percentile_label(n):
    """Tick label for n nines: 0 -> '0%', 1 -> '90%', 2 -> '99%', 3 -> '99.9%'."""
    if n == 0:
        return "0%"
    if n == 1:
        return "90%"
    if n == 2:
        return "99%"
    return "99." + "9" * (n - 2) + "%"


def latency_chart(title, series, width=640, height=400):
    """SVG text of a latency-percentile chart. `series`: [(label, percentiles), ...] with
    percentiles as in shardis-bench's JSON. Series without points are listed, not drawn."""
    margin_l, margin_r, margin_t, margin_b = 64, 32, 36, 48
    pw, ph = width - margin_l - margin_r, height - margin_t - margin_b
    drawn = [(label, series_points(p)) for label, p in series]
    all_pts = [pt for _, pts in drawn for pt in pts]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2:.0f}" y="20" text-anchor="middle" font-size="13">{escape(title)}</text>']
    if not all_pts:
        out.append(f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle">no data</text>')
        out.append("</svg>")
        return "\n".join(out) + "\n"
    x_max = max(1.0, math.ceil(max(x for x, _ in all_pts)))
    y_lo, y_hi = axis_range([y for _, y in all_pts])
    ly_lo, ly_hi = math.log10(y_lo), math.log10(y_hi)

    def px(x):
        return margin_l + pw * x / x_max

    def py(y):
        return margin_t + ph * (1 - (math.log10(y) - ly_lo) / (ly_hi - ly_lo))

    # Grid and axes.
    for t in log_ticks(y_lo, y_hi):
        y = py(t)
        out.append(f'<line x1="{margin_l}" y1="{y:.1f}" x2="{margin_l + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{margin_l - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt_ms(t)}</text>')
    for n in range(int(x_max) + 1):
        x = px(n)
        out.append(f'<line x1="{x:.1f}" y1="{margin_t}" x2="{x:.1f}" y2="{margin_t + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{margin_t + ph + 16}" text-anchor="middle">{percentile_label(n)}</text>')
    out.append(f'<rect x="{margin_l}" y="{margin_t}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    out.append(f'<text x="{margin_l + pw / 2:.0f}" y="{height - 10}" text-anchor="middle">percentile</text>')
    out.append(f'<text transform="translate(16 {margin_t + ph / 2:.0f}) rotate(-90)" '
               f'text-anchor="middle">latency (ms, log)</text>')

    # Lines, then the legend on a light box so it stays readable where it covers a line.
    for i, (_, pts) in enumerate(drawn):
        if pts:
            coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
            out.append(f'<polyline points="{coords}" fill="none" stroke="{COLORS[i % len(COLORS)]}" '
                       f'stroke-width="1.8"/>')
    box_w = 44 + 6.5 * max(len(label) for label, _ in drawn)
    out.append(f'<rect x="{margin_l + 4}" y="{margin_t + 2}" width="{box_w:.0f}" '
               f'height="{16 * len(drawn) + 4}" fill="white" fill-opacity="0.85"/>')
    for i, (label, pts) in enumerate(drawn):
        color = COLORS[i % len(COLORS)]
        ly = margin_t + 14 + 16 * i
        if not pts:  # e.g. "unsupported": listed in grey, nothing to draw
            out.append(f'<text x="{margin_l + 36}" y="{ly}" fill="#888">{escape(label)}</text>')
            continue
        out.append(f'<line x1="{margin_l + 10}" y1="{ly - 4}" x2="{margin_l + 30}" y2="{ly - 4}" '
                   f'stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{margin_l + 36}" y="{ly}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
