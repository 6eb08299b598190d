#!/usr/bin/env python3
"""etcd-probe's own cost per target at fleet scale.

Starts three real 3-member etcd clusters (the `etcd` on PATH) on loopback ports in a temporary folder, then,
for each fleet size N, one probe (the release build) with a clusters file of N cluster entries spread over
those three clusters. Each entry is a cluster to the probe: its own clients, three member targets and a
cluster target, its own keys (the cluster name is part of them). N=50 is 150 member targets and 50 cluster
targets.

For each N, after a warm-up of two intervals, it measures over --window seconds: the probe's CPU (user+sys
from /proc), its resident memory at the end, the /metrics body size and the median time of five scrapes, the
rounds run against the rounds due, and etcd_probe_round_overruns_total. Then the per-target CPU and memory as
the slope of a least-squares line over N (a target = a member or cluster target). The clusters share nine
endpoints, so the client's per-endpoint series (--client-metrics per-endpoint, about 230 KB each) do not grow
with N here as they would over distinct clusters.

    swift build -c release --product etcd-probe
    Benchmarks/probe-fleet.py [--sizes 1,5,10,20,50] [--interval 5] [--window 60] [--client-metrics MODE]

Every loop is bounded; only the processes it started are stopped, by their PIDs.
"""
import argparse, os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.environ.get("PROBE", os.path.join(HERE, "..", ".build", "release", "etcd-probe"))
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(name, directory, log):
    members = [(f"{name}-m{i}", free_port(), free_port()) for i in range(3)]
    initial = ",".join(f"{m}=http://127.0.0.1:{peer}" for m, _, peer in members)
    pids = []
    for member, client, peer in members:
        pids.append(subprocess.Popen(
            ["etcd", "--name", member, "--data-dir", os.path.join(directory, member),
             "--listen-client-urls", f"http://127.0.0.1:{client}",
             "--advertise-client-urls", f"http://127.0.0.1:{client}",
             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-cluster", initial, "--initial-cluster-token", name,
             "--initial-cluster-state", "new", "--log-level", "error"],
            stdout=log, stderr=log).pid)
    return pids, [f"127.0.0.1:{client}" for _, client, _ in members]


def healthy(endpoint):
    try:
        with urllib.request.urlopen(f"http://{endpoint}/health", timeout=1) as answer:
            return b'"health":"true"' in answer.read()
    except OSError:
        return False


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid):
    return int(open(f"/proc/{pid}/statm").read().split()[1]) * PAGE / 2**20


def scrape(port):
    started = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        body = answer.read()
    return body, time.monotonic() - started


def samples(body, prefix):
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(prefix):
            total += float(line.rsplit(" ", 1)[1])
    return total


def stop(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(300):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def measure(size, clusters, interval, window, directory, log, client_metrics):
    path = os.path.join(directory, f"clusters-{size}.yml")
    with open(path, "w") as file:
        file.write("clusters:\n")
        for index in range(size):
            endpoints = clusters[index % len(clusters)]
            file.write(f"  - name: fleet-{index}\n    endpoints: [{', '.join(endpoints)}]\n"
                       f"    interval: {interval}s\n    hash_interval: 60s\n")
    port = free_port()
    probe = subprocess.Popen([PROBE, "--config.file", path, "--listen-address", f"127.0.0.1:{port}",
                              "--log-level", "warning", "--client-metrics", client_metrics],
                             stdout=log, stderr=log).pid
    try:
        time.sleep(2 * interval)
        body, _ = scrape(port)
        rounds_before = samples(body, "etcd_probe_rounds_total{")
        cpu_before, started = cpu_seconds(probe), time.monotonic()
        time.sleep(window)
        cpu = cpu_seconds(probe) - cpu_before
        elapsed = time.monotonic() - started
        times = []
        for _ in range(5):
            body, took = scrape(port)
            times.append(took)
        rounds = samples(body, "etcd_probe_rounds_total{") - rounds_before
        return {
            "clusters": size, "targets": size * 4, "cpu_pct": 100 * cpu / elapsed, "rss_mb": rss_mb(probe),
            "metrics_kb": len(body) / 1024, "scrape_ms": 1000 * sorted(times)[2],
            "rounds_per_due": rounds / (size * elapsed / interval),
            "overruns": samples(body, "etcd_probe_round_overruns_total{"),
            "failures": samples(body, "etcd_probe_failures_total{"),
        }
    finally:
        stop(probe)


def slope(points):
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,5,10,20,50")
    parser.add_argument("--interval", type=float, default=5)
    parser.add_argument("--window", type=float, default=60)
    parser.add_argument("--client-metrics", default="per-endpoint", choices=["per-endpoint", "aggregate", "off"])
    args = parser.parse_args()
    if not os.access(PROBE, os.X_OK):
        sys.exit(f"{PROBE} is not built: swift build -c release --product etcd-probe")
    if shutil.which("etcd") is None:
        sys.exit("etcd is not on PATH")
    directory = tempfile.mkdtemp(prefix="probe-fleet-")
    log = open(os.path.join(directory, "processes.log"), "w")
    pids = []
    try:
        clusters = []
        for name in ("a", "b", "c"):
            started, endpoints = start_cluster(name, directory, log)
            pids += started
            clusters.append(endpoints)
        deadline = time.monotonic() + 60
        while not all(healthy(e) for c in clusters for e in c):
            if time.monotonic() > deadline:
                sys.exit("the etcd clusters did not become healthy within 60 s")
            time.sleep(0.5)
        rows = [measure(int(size), clusters, args.interval, args.window, directory, log, args.client_metrics)
                for size in args.sizes.split(",")]
        header = ["clusters", "targets", "cpu_pct", "rss_mb", "metrics_kb", "scrape_ms", "rounds_per_due",
                  "overruns", "failures"]
        print(" ".join(f"{h:>14}" for h in header))
        for row in rows:
            print(" ".join(f"{row[h]:>14.2f}" if isinstance(row[h], float) else f"{row[h]:>14}" for h in header))
        cpu = slope([(r["targets"], r["cpu_pct"]) for r in rows])
        rss = slope([(r["targets"], r["rss_mb"]) for r in rows])
        kb = slope([(r["targets"], r["metrics_kb"]) for r in rows])
        print(f"per target: cpu {cpu:.3f}% of one core at a {args.interval:g}s interval, rss {rss * 1024:.0f} KiB, "
              f"/metrics {kb:.2f} KiB")
    finally:
        for pid in pids:
            stop(pid)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
