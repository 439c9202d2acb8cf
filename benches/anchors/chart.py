"""Draws the comparison table (TSV: tool, MB/s, events/s) as a horizontal bar chart in SVG.

Usage: python3 chart.py TABLE.tsv OUT.svg TITLE"""
import sys
from xml.sax.saxutils import escape

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
rows = [(name, float(mbs)) for name, mbs, *_ in rows]
width, bar_h, gap, left = 860, 26, 10, 370
top = 50
height = top + len(rows) * (bar_h + gap) + 30
peak = max(v for _, v in rows) or 1
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="13">',
       f'<rect width="100%" height="100%" fill="white"/>',
       f'<text x="10" y="24" font-size="15" font-weight="bold">{escape(sys.argv[3])}</text>']
for i, (name, v) in enumerate(rows):
    y = top + i * (bar_h + gap)
    w = (width - left - 90) * v / peak
    colour = "#d9480f" if name.startswith("trailport") else "#5c7cfa"
    out.append(f'<text x="{left - 8}" y="{y + bar_h * 0.68}" text-anchor="end">{escape(name)}</text>')
    out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>')
    out.append(f'<text x="{left + w + 6:.1f}" y="{y + bar_h * 0.68}">{v:.0f} MB/s</text>')
out.append(f'<text x="10" y="{height - 10}" fill="#555">MB/s of uncompressed logs (higher is better)</text>')
out.append("</svg>")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
