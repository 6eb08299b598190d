"""Plots two etcd-probe dashboard panels from Prometheus' range-query API into a PNG.

Usage: plot-panels.py PROMETHEUS_URL START END OUT.png
"""
import json
import sys
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PANELS = [
    ("Put latency p99 by endpoint (s)",
     'histogram_quantile(0.99, sum by (endpoint, le) (rate(etcd_probe_duration_seconds_bucket{op="put"}[5s])))'),
    ("Put -> watch delivery delay p50 by endpoint (s)",
     'histogram_quantile(0.5, sum by (endpoint, le) (rate(etcd_probe_watch_delay_seconds_bucket[5s])))'),
    ("Probe failures per second by endpoint",
     'sum by (endpoint) (rate(etcd_probe_failures_total[5s]))'),
]


def query_range(base, expr, start, end):
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": "1"})
    with urllib.request.urlopen(f"{base}/api/v1/query_range?{params}", timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise SystemExit(f"query failed: {expr}: {body}")
    return body["data"]["result"]


def main():
    base, start, end, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    figure, axes = plt.subplots(len(PANELS), 1, figsize=(10, 3.2 * len(PANELS)), sharex=True)
    for axis, (title, expr) in zip(axes, PANELS):
        for series in query_range(base, expr, start, end):
            points = [(float(t) - start, float(v)) for t, v in series["values"] if v not in ("NaN", "+Inf")]
            if points:
                axis.plot(*zip(*points), label=series["metric"].get("endpoint", "all"))
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8, loc="upper left")
    axes[-1].set_xlabel("seconds since the probe started (one member paused for 8 s in the middle)")
    figure.tight_layout()
    figure.savefig(out, dpi=90)


if __name__ == "__main__":
    main()
