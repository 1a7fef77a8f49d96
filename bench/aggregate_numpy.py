"""The peer of bench/aggregate.ts: the same study arithmetic as controller/aggregate's
aggregateStudy, written the way a NumPy user would (vectorised, no Python loops over questions).

Per run MAP@3 (the answer's rank with ties broken by the lower option index, as ablate ranks);
per ablation the seed mean/std/min/max, the mean-probabilities ensemble renormalised per row and
its per-question scores; per non-baseline ablation a paired bootstrap of the mean difference
(10,000 resamples of the questions, percentile 95 % interval, one-sided p = (1 + #{delta* <= 0}) /
(B + 1)), the normal-approximation power figures, and Holm's adjustment. Input: a directory with
probs.f32 (runs x questions x options, float32), answers.i32, and meta.json. Prints one JSON line:
the best and median wall time over --repeats and the figures (for the cross-check with ours).
Usage: python3 aggregate_numpy.py DIR [--repeats 5]
"""
import argparse, json, math, os, statistics, sys, time

import numpy as np

# Draws per bootstrap chunk: 1,000 resamples x 4,000 questions of int64 indices is 32 MB, which
# keeps memory flat; larger chunks were not faster on the 2-core machine.
CHUNK = 1000


def scores(probs, answers, k):
    """Per-question MAP@k: 1/rank of the answer when rank <= k, else 0 (NaN answer row: 0)."""
    n, c = probs.shape
    pa = probs[np.arange(n), answers][:, None]
    before = (probs > pa) | ((probs == pa) & (np.arange(c)[None, :] < answers[:, None]))
    rank = 1 + before.sum(axis=1)
    out = np.where(rank <= k, 1.0 / rank, 0.0)
    out[np.isnan(pa[:, 0])] = 0.0
    return out


def bootstrap(d, resamples, confidence, rng):
    n = d.shape[0]
    deltas = np.empty(resamples)
    for start in range(0, resamples, CHUNK):
        b = min(CHUNK, resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        deltas[start:start + b] = d[idx].mean(axis=1)
    not_better = int((deltas <= 0).sum())
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(deltas, [tail, 1 - tail])
    return {"delta": float(d.mean()), "ciLow": float(lo), "ciHigh": float(hi), "pValue": (1 + not_better) / (resamples + 1)}


def norm_ppf(p):
    return statistics.NormalDist().inv_cdf(p)


def holm(p):
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def study(probs, answers, meta):
    k, resamples = meta["k"], meta["resamples"]
    ablation_of = np.array(meta["runAblation"])
    runs = [float(scores(probs[r], answers, k).mean()) for r in range(probs.shape[0])]
    ablations = {}
    for a, name in enumerate(meta["ablations"]):
        sel = np.flatnonzero(ablation_of == a)
        seed_maps = np.array([runs[r] for r in sel])
        # Sum then divide by the row sum, in float64, as ours does (so the two agree to the bit).
        ens = probs[sel].sum(axis=0, dtype=np.float64)
        ens = (ens / ens.sum(axis=1, keepdims=True)).astype(np.float32)
        s = scores(ens, answers, k)
        ablations[name] = {"seedMean": float(seed_maps.mean()), "seedStd": float(seed_maps.std(ddof=1)),
                           "seedMin": float(seed_maps.min()), "seedMax": float(seed_maps.max()),
                           "ensembleMapAtK": float(s.mean()), "_scores": s}
    base = ablations[meta["baseline"]]["_scores"]
    rng = np.random.default_rng(meta["seed"])
    z = norm_ppf(1 - 0.05 / 2) + norm_ppf(0.8)
    compared = [name for name in meta["ablations"] if name != meta["baseline"]]
    tests = []
    for name in compared:
        d = ablations[name]["_scores"] - base
        boot = bootstrap(d, resamples, 0.95, rng)
        sd = float(d.std(ddof=1))
        delta = boot["delta"]
        boot["minDetectable"] = z * sd / math.sqrt(d.shape[0])
        boot["questionsNeeded"] = None if delta == 0 else max(2, math.ceil((z * sd / abs(delta)) ** 2))
        tests.append(boot)
    for t, p in zip(tests, holm(np.array([t["pValue"] for t in tests]))):
        t["pValueHolm"] = float(p)
    for name, t in zip(compared, tests):
        ablations[name]["vsBaseline"] = t
    for a in ablations.values():
        del a["_scores"]
    return {"runs": runs, "ablations": ablations}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    with open(os.path.join(a.dir, "meta.json")) as f:
        meta = json.load(f)
    n, c, r = meta["questions"], meta["options"], len(meta["runAblation"])
    probs = np.fromfile(os.path.join(a.dir, "probs.f32"), dtype=np.float32).reshape(r, n, c)
    answers = np.fromfile(os.path.join(a.dir, "answers.i32"), dtype=np.int32).astype(np.int64)
    result = study(probs, answers, meta)  # warm-up, as ours gets one
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        result = study(probs, answers, meta)
        times.append((time.perf_counter() - t0) * 1000)
    blas = None
    try:
        from threadpoolctl import threadpool_info
        blas = [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")} for i in threadpool_info()]
    except ImportError:
        pass
    print(json.dumps({"numpy": np.__version__, "python": sys.version.split()[0], "blas": blas,
                      "bestMs": min(times), "medianMs": statistics.median(times), "allMs": [round(t, 1) for t in times],
                      "result": result}))


if __name__ == "__main__":
    main()
