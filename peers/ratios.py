"""Ours against the peers, as ratios, from results.csv files of both (peers/compare.sh).

Given several files (several runs of the same comparison), each row keeps its best run: the
highest queries per second, and the recall and build time of that run.

Each of our rows is paired with the peer row it is measured against: brute force in memory
with FAISS's IndexFlatL2, brute force streamed from SQLite with sqlite-vec's vec0 (and FAISS),
the inverted file with FAISS's IndexIVFFlat at the same nlist and nprobe, product quantization
with FAISS's IndexPQ at the same m and nbits, IVF-PQ with FAISS's IndexIVFPQ at the same nlist,
m, nbits and nprobe (and re-ranking depth, through IndexRefineFlat), the graph with FAISS's IndexHNSWFlat and hnswlib
at the same M, efConstruction and efSearch. For each pair it prints the queries-per-second
ratio (ours / theirs), the recall difference and the build-time ratio.
"""

import csv
import sys

OURS = ("flat", "ivf", "pq", "hnsw", "ivfpq")


def params_of(row):
    """The row's parameters as a dict, storage settings (layout, mode) apart."""
    pairs = dict(p.split("=", 1) for p in row["params"].split())
    storage = (pairs.pop("layout", "chunks"), pairs.pop("mode", "streamed"))
    return pairs, storage


def peer_for(row, peers):
    """The peer rows our row is compared with."""
    params, (layout, mode) = params_of(row)
    index = row["index"]
    wanted = []
    if index == "flat":
        wanted = ["faiss-flat"] if mode == "preloaded" else ["sqlite-vec", "faiss-flat"]
    elif index == "ivf":
        wanted = ["faiss-ivf"]
    elif index == "pq":
        wanted = ["faiss-pq"]
    elif index == "ivfpq":
        wanted = ["faiss-ivfpq"]
    elif index == "hnsw":
        wanted = ["faiss-hnsw", "hnswlib"]
    found = []
    for name in wanted:
        for peer in peers:
            if peer["index"] == name and params_of(peer)[0] == params:
                found.append(peer)
    return found


def best_rows(paths):
    """Every distinct (index, params) row, from the run where it answered fastest."""
    best = {}
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                key = (row["index"], row["params"])
                if key not in best or float(row["qps"]) > float(best[key]["qps"]):
                    best[key] = row
    return list(best.values())


def main(paths):
    rows = best_rows(paths)
    ours = [r for r in rows if r["index"] in OURS]
    peers = [r for r in rows if r["index"] not in OURS]
    header = f"{'ours':<44} {'peer':<11} {'qps ours':>10} {'qps peer':>10} {'ratio':>7} {'recall diff':>12} {'build ratio':>12}"
    print(header)
    for row in ours:
        label = f"{row['index']} {row['params']}".strip()
        for peer in peer_for(row, peers):
            qps = float(row["qps"]) / float(peer["qps"])
            recall = float(row["recall"]) - float(peer["recall"])
            build = float(row["build_s"]) / max(float(peer["build_s"]), 1e-9)
            print(
                f"{label:<44} {peer['index']:<11} {float(row['qps']):>10.1f} "
                f"{float(peer['qps']):>10.1f} {qps:>7.2f} {recall:>+12.4f} {build:>12.2f}"
            )
    equal_recall(rows)
    reranked_at_ivf_target(rows)


def reranked_at_ivf_target(rows, target=0.95):
    """IVF-PQ with re-ranking at the probe count where our IVF-Flat (same nlist, same mode)
    first reaches `target` recall: do the codes, re-ranked, keep what the exact lists find?"""
    ivfpq = [r for r in rows if r["index"] == "ivfpq" and "rerank" in params_of(r)[0]]
    if not ivfpq:
        return
    print(f"\n{'ours (ivfpq, re-ranked)':<60} {'ivf nprobe':>10} {'ivf recall':>10} {'recall':>8} {'qps':>10}")
    for row in ivfpq:
        params, storage = params_of(row)
        flat = sorted(
            (int(params_of(r)[0]["nprobe"]), float(r["recall"]))
            for r in rows
            if r["index"] == "ivf"
            and params_of(r)[1] == storage
            and params_of(r)[0].get("nlist") == params["nlist"]
            and float(r["recall"]) >= target
        )
        if not flat or int(params["nprobe"]) != flat[0][0]:
            continue
        label = f"{row['index']} {row['params']}".strip()
        print(f"{label:<60} {flat[0][0]:>10} {flat[0][1]:>10.4f} {float(row['recall']):>8.4f} {float(row['qps']):>10.1f}")


def qps_at_recall(curve, recall):
    """A peer's queries per second at `recall`, interpolated linearly between the two rows of
    its curve (recall, qps) on either side; None outside the curve."""
    curve = sorted(curve)
    for (r0, q0), (r1, q1) in zip(curve, curve[1:]):
        if r0 <= recall <= r1:
            return q0 if r1 == r0 else q0 + (q1 - q0) * (recall - r0) / (r1 - r0)
    return None


def equal_recall(rows):
    """Graph rows at equal recall: a beam of the same width does not do the same work in every
    library (FAISS keeps expanding its candidates longer than the paper's rule), so each of our
    rows is also set against each peer's speed at our recall, read off the peer's curve."""
    graphs = [r for r in rows if r["index"] == "hnsw"]
    if not graphs:
        return
    print(f"\n{'ours (graph)':<44} {'peer':<11} {'recall':>8} {'qps ours':>10} {'qps peer':>10} {'ratio':>7}")
    for peer_name in ("faiss-hnsw", "hnswlib"):
        for row in graphs:
            params, _ = params_of(row)
            build = {k: v for k, v in params.items() if k != "ef_search"}
            curve = [
                (float(p["recall"]), float(p["qps"]))
                for p in rows
                if p["index"] == peer_name
                and {k: v for k, v in params_of(p)[0].items() if k != "ef_search"} == build
            ]
            recall = float(row["recall"])
            theirs = qps_at_recall(curve, recall)
            label = f"{row['index']} {row['params']}".strip()
            shown = f"{theirs:>10.1f} {float(row['qps']) / theirs:>7.2f}" if theirs else f"{'outside':>10} {'':>7}"
            print(f"{label:<44} {peer_name:<11} {recall:>8.4f} {float(row['qps']):>10.1f} {shown}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["out/compare/all.csv"])
