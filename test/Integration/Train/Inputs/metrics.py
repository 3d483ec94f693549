"""Checks on a tele metrics.jsonl, used by the Integration/Train lit tests.

usage: metrics.py same-losses A.jsonl B.jsonl STEP   losses of A and B identical up to STEP
       metrics.py loss-drop A.jsonl FRACTION          mean of last 10 <= (1 - FRACTION) * first
       metrics.py growth A.jsonl COUNT TOL            >= COUNT grow events, each |rel change| <= TOL
       metrics.py keys A.jsonl KEY...                 every step record has these keys
       metrics.py batches A.jsonl STEPS               steps 1..STEPS once each, step s on batch s - 1
Prints what it checked; exits 1 with a message on failure."""
import json
import sys


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def steps(path):
    return [r for r in records(path) if "event" not in r]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


cmd, path = sys.argv[1], sys.argv[2]
if cmd == "same-losses":
    other, upto = sys.argv[3], int(sys.argv[4])
    a = {r["step"]: r["loss"] for r in steps(path)}
    b = {r["step"]: r["loss"] for r in steps(other)}
    for s in range(1, upto + 1):
        if s not in a or s not in b:
            fail(f"step {s} missing")
        if a[s] != b[s]:
            fail(f"step {s}: {a[s]!r} != {b[s]!r}")
    print(f"identical losses at steps 1..{upto}; step {upto}: {a[upto]!r}")
elif cmd == "loss-drop":
    frac = float(sys.argv[3])
    losses = [r["loss"] for r in steps(path)]
    first, last = losses[0], sum(losses[-10:]) / len(losses[-10:])
    print(f"first {first:.4f} last10 {last:.4f} drop {1 - last / first:.3f}")
    if not last <= (1 - frac) * first:
        fail(f"loss dropped by less than {frac}")
elif cmd == "growth":
    count, tol = int(sys.argv[3]), float(sys.argv[4])
    events = [r for r in records(path) if r.get("event") == "grow"]
    for e in events:
        print(f"grow {e['kind']} {e['from']}->{e['to']} rel {e['relative_loss_change']:.3g}"
              f" maxlogit {e['max_abs_logit_diff']:.3g}")
        if not abs(e["relative_loss_change"]) <= tol:
            fail("growth changed the loss")
    if len(events) < count:
        fail(f"{len(events)} growth events, expected at least {count}")
elif cmd == "keys":
    for r in steps(path):
        for k in sys.argv[3:]:
            if k not in r:
                fail(f"record at step {r.get('step')} lacks {k}")
    print("all step records have", " ".join(sys.argv[3:]))
elif cmd == "batches":
    # The specification of the data order (README, metrics.jsonl): one
    # record per step, in order, and step s trains on sampler batch s - 1.
    upto = int(sys.argv[3])
    recs = steps(path)
    if [r["step"] for r in recs] != list(range(1, upto + 1)):
        fail(f"steps {[r['step'] for r in recs]}, expected 1..{upto} once each")
    for r in recs:
        if r["batch"] != r["step"] - 1:
            fail(f"step {r['step']} ({r['stage']}) trained on batch {r['batch']}, "
                 f"expected {r['step'] - 1}")
    by_stage = {}
    for r in recs:
        by_stage.setdefault(r["stage"], []).append(str(r["batch"]))
    print(f"steps 1..{upto} trained on batches 0..{upto - 1} in order: "
          + " | ".join(f"{s} {' '.join(b)}" for s, b in by_stage.items()))
else:
    fail("unknown command " + cmd)
