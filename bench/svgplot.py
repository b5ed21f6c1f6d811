"""svgplot.py: the Table 1 figure as a plain SVG file, written by hand so the
bench needs no plotting library: one panel per modality, compression rate
against model size (log scale), lmz's raw and adjusted rates as points joined
by lines, and the classical baselines (chunked, header counted once) as
horizontal lines, since they have no model."""

import math
from xml.sax.saxutils import escape

PANEL_W, PANEL_H = 420, 320
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 60, 145, 40, 50
LABEL_GAP = 12
BASELINE_COLORS = {
    "gzip": "#8c564b", "lzma2": "#9467bd", "bzip2": "#7f7f7f",
    "zstd": "#17becf", "png": "#bcbd22", "flac": "#e377c2",
}
RAW_COLOR, ADJ_COLOR = "#1f77b4", "#d62728"


def _nice_step(span, ticks=5):
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _fmt_bytes(v):
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if v >= div:
            return f"{v / div:g} {unit}"
    return f"{v:g} B"


def panel(title, lmz_points, baselines, x0, y0):
    """lmz_points: [(model_bytes, raw_pct, adj_pct, label)];
    baselines: [(name, pct)]. Returns SVG elements for one panel."""
    out = []
    pw = PANEL_W - MARGIN_L - MARGIN_R
    ph = PANEL_H - MARGIN_T - MARGIN_B
    left, top = x0 + MARGIN_L, y0 + MARGIN_T
    sizes = [p[0] for p in lmz_points if p[0] > 0] or [1e5]
    lo = 10 ** math.floor(math.log10(min(sizes)) - 0.5)
    hi = 10 ** math.ceil(math.log10(max(sizes)) + 0.5)
    values = [v for p in lmz_points for v in (p[1], p[2])] + [b[1] for b in baselines]
    ymax = max(values + [100.0]) * 1.08
    step = _nice_step(ymax)
    ymax = math.ceil(ymax / step) * step

    def X(v):
        return left + pw * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    def Y(v):
        return top + ph * (1 - v / ymax)

    out.append(f'<text x="{left + pw / 2}" y="{y0 + 22}" text-anchor="middle" '
               f'font-size="15" font-weight="bold">{escape(title)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    t = 0.0
    while t <= ymax + 1e-9:
        y = Y(t)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{t:g}%</text>')
        t += step
    d = lo
    while d <= hi * 1.0001:
        x = X(d)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle" font-size="11">'
                   f'{_fmt_bytes(d)}</text>')
        d *= 10
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 36}" text-anchor="middle" font-size="12">'
               f'model size (bytes, log scale)</text>')
    out.append(f'<text x="{x0 + 14}" y="{top + ph / 2}" text-anchor="middle" font-size="12" '
               f'transform="rotate(-90 {x0 + 14} {top + ph / 2})">rate (% of raw)</text>')
    # Baselines: horizontal lines, labelled at the right; labels of close
    # lines are spread apart, kept inside the panel's height.
    order = sorted(baselines, key=lambda b: -b[1])
    want = [Y(pct) + 4 for _, pct in order]
    pos = []
    for w in want:
        pos.append(max(w, pos[-1] + LABEL_GAP) if pos else w)
    bottom = top + ph + 4
    for i in range(len(pos) - 1, -1, -1):
        limit = bottom - (len(pos) - 1 - i) * LABEL_GAP
        if pos[i] > limit:
            pos[i] = limit
    for (name, pct), ly in zip(order, pos):
        y = Y(pct)
        color = BASELINE_COLORS.get(name.split()[0].lower(), "#555")
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" '
                   f'stroke="{color}" stroke-dasharray="5,3"/>')
        out.append(f'<text x="{left + pw + 5}" y="{ly:.1f}" font-size="11" fill="{color}">'
                   f'{escape(name)} {pct:.1f}%</text>')
    # lmz: raw and adjusted, points in model-size order joined by lines.
    pts = sorted(lmz_points)
    for idx, color in ((1, RAW_COLOR), (2, ADJ_COLOR)):
        if len(pts) > 1:
            path = " ".join(f"{X(p[0]):.1f},{Y(p[idx]):.1f}" for p in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for p in pts:
            shape = (f'<circle cx="{X(p[0]):.1f}" cy="{Y(p[idx]):.1f}" r="4.5" fill="{color}"/>'
                     if idx == 1 else
                     f'<rect x="{X(p[0]) - 4:.1f}" y="{Y(p[idx]) - 4:.1f}" width="8" height="8" '
                     f'fill="{color}"/>')
            out.append(shape)
    for p in pts:
        out.append(f'<text x="{X(p[0]) + 8:.1f}" y="{Y(p[1]) - 7:.1f}" font-size="10" fill="#333">'
                   f'{escape(p[3])}</text>')
    return out


def write_svg(path, panels, subtitle):
    """panels: [(title, lmz_points, baselines)]."""
    width = PANEL_W * len(panels)
    height = PANEL_H + 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for i, (title, points, baselines) in enumerate(panels):
        parts += panel(title, points, baselines, PANEL_W * i, 0)
    ly = PANEL_H + 20
    parts.append(f'<circle cx="70" cy="{ly}" r="4.5" fill="{RAW_COLOR}"/>')
    parts.append(f'<text x="80" y="{ly + 4}" font-size="12">lmz raw rate (payload / raw)</text>')
    parts.append(f'<rect x="286" y="{ly - 4}" width="8" height="8" fill="{ADJ_COLOR}"/>')
    parts.append(f'<text x="300" y="{ly + 4}" font-size="12">lmz adjusted rate '
                 f'(model counted once against the dataset)</text>')
    parts.append(f'<line x1="700" y1="{ly}" x2="730" y2="{ly}" stroke="#555" stroke-dasharray="5,3"/>')
    parts.append(f'<text x="736" y="{ly + 4}" font-size="12">classical, chunked '
                 f'(header counted once)</text>')
    parts.append(f'<text x="70" y="{ly + 24}" font-size="11" fill="#555">{escape(subtitle)}</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")
