"""Locust load test for the nerd NER API, for users who run Locust.

Two ways to run it.

Plain Locust (NERD_SCENARIO unset): an ordinary locustfile, one user class
and no load shape, so Locust's own options and web UI decide the load:

    locust -f locustfile.py -H http://127.0.0.1:3000      # web UI on :8089
    locust -f locustfile.py -H http://127.0.0.1:3000 --headless \\
           -u 100 -r 3 -t 1m --csv runs/lab

In the web UI the number of users and the spawn rate typed in are used,
Start and Stop work, and -t/--run-time, --csv, --html etc. behave as with
any locustfile.  Each user sends its next request at once (no think time,
Locust's default for a user without wait_time, as in the AWS lab's stress
test); NERD_THINK="MIN MAX" (or one value; durations as in a .scn file:
200ms, 1s, 0.5) makes it think a uniform time in that range between
requests.

The study's scenarios (NERD_SCENARIO set): the same workloads as
`nerd bench --scenario NAME` (the load lab), read from scenarios/*.scn,
each a LoadTestShape with its warm-up (statistics reset when it ends) and
its stages' users, spawn rates and think times:

    NERD_SCENARIO=heavy-b NERD_TIME_SCALE=0.1 \\
        locust -f locustfile.py --host http://127.0.0.1:3000 --headless \\
               --csv runs/heavy-b

NERD_SCENARIO: light-a, heavy-a, light-b, heavy-b, light-c, heavy-c,
very-heavy-a, lab-stress (the AWS lab's), or a path to a .scn file.
NERD_TIME_SCALE multiplies every duration and think time of the scenario
(default 1).  The shape decides users, spawn rate and duration, and the
run ends with its last stage: do not pass -u, -r or -t (Locust ignores
-u/-r with a warning and refuses -t); in the web UI, Start runs the shape
whatever user count is typed in.

Both ways: the same payload mix of short and long English sentences (read
from loadgen/payload.c, so there is one list), or NERD_TEXTS, a file of
texts, one per line.  Every POST /ner answer must be 200 with an
"entities" list; anything else is a failure.
"""
import os
import random
import re

from locust import HttpUser, LoadTestShape, task

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- the payload mix --------------------------------------------------------

def builtin_texts():
    """The SENTENCES table of loadgen/payload.c (adjacent C literals joined)."""
    src = open(os.path.join(HERE, "loadgen", "payload.c"), encoding="utf-8").read()
    block = re.search(r"SENTENCES\[\]\s*=\s*\{(.*?)\n\};", src, re.S).group(1)
    block = re.sub(r"/\*.*?\*/", "", block, flags=re.S)
    texts, cur = [], ""
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|,', block):
        if m.group(0) == ",":
            if cur:
                texts.append(cur)
            cur = ""
        else:
            cur += re.sub(r"\\(.)", r"\1", m.group(1))
    if cur:
        texts.append(cur)
    return texts


def load_texts():
    path = os.environ.get("NERD_TEXTS")
    if path:
        with open(path, encoding="utf-8") as f:
            return [line.rstrip("\r\n") for line in f if line.strip()]
    return builtin_texts()


TEXTS = load_texts()


# ---- scenarios -------------------------------------------------------------------

def seconds(tok):
    m = re.fullmatch(r"([0-9.]+)(ms|s|m|h)?", tok)
    if not m:
        raise ValueError("bad duration %r" % tok)
    v = float(m.group(1))
    return v * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def parse_scenario(path):
    """Reads a .scn file (docs/loadlab.md) into a dict; closed model only."""
    # the engine's defaults: no think time, all users at once (spawn rate 0)
    sc = {"name": os.path.basename(path)[:-4], "think": (0.0, 0.0), "spawn_rate": 0.0,
          "warmup": None, "stages": [], "model": "closed"}
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            w = line.split()
            key = w[0]
            if key in ("name", "description"):
                sc[key] = line.split(None, 1)[1] if len(w) > 1 else ""
            elif key == "model":
                sc["model"] = w[1]
            elif key == "think":
                sc["think"] = (seconds(w[1]), seconds(w[2]))
            elif key == "spawn-rate":
                sc["spawn_rate"] = float(w[1])
            elif key in ("stage", "warmup"):
                st = {"duration": seconds(w[1]), "users": None, "spawn_rate": None, "think": None}
                i = 2
                while i < len(w):
                    if w[i] == "users":
                        st["users"] = int(w[i + 1]); i += 2
                    elif w[i] == "spawn-rate":
                        st["spawn_rate"] = float(w[i + 1]); i += 2
                    elif w[i] == "think":
                        st["think"] = (seconds(w[i + 1]), seconds(w[i + 2])); i += 3
                    else:
                        i += 1  # open-model keys (rate ...) are not for Locust
                if key == "warmup":
                    sc["warmup"] = st
                else:
                    sc["stages"].append(st)
    if sc["model"] != "closed":
        raise ValueError("%s: Locust runs closed-model scenarios only (virtual users); "
                         "use `nerd bench` for open-model ones" % path)
    return sc


def scenario_path(name):
    if "/" in name or name.endswith(".scn"):
        return name
    return os.path.join(HERE, "scenarios", name + ".scn")


def make_shape(sc, scale):
    """A LoadTestShape class for scenario sc, durations multiplied by scale.
    Each stage: (end, users, spawn rate, think range, is the warm-up); a
    spawn rate of 0 starts or stops the stage's users at once."""
    stages, t = [], 0.0
    for st, warm in ([(sc["warmup"], True)] if sc["warmup"] else []) + [(x, False) for x in sc["stages"]]:
        t += st["duration"] * scale
        rate = st["spawn_rate"] if st["spawn_rate"] is not None else sc["spawn_rate"]
        rate = rate / scale if rate > 0 else max(st["users"], 1) * 100.0  # "at once": within 10 ms
        think = tuple(x * scale for x in (st["think"] or sc["think"]))
        stages.append((t, st["users"], rate, think, warm))

    class Shape(LoadTestShape):
        __doc__ = sc.get("description", sc["name"])
        reset_done = False

        def tick(self):
            now = self.get_run_time()
            for end, users, rate, _think, is_warmup in stages:
                if now < end:
                    return (users, rate)
                if is_warmup and not self.reset_done:
                    self.reset_done = True  # warm-up over: statistics start now
                    self.runner.stats.reset_all()
            return None

        def think(self):
            """The current stage's think time range (the stage's own, else the file's)."""
            now = self.get_run_time()
            for end, _users, _rate, think, _warm in stages:
                if now < end:
                    return think
            return stages[-1][3] if stages else (0.0, 0.0)

    Shape.__name__ = Shape.__qualname__ = "Shape_" + re.sub(r"\W", "_", sc["name"])
    return Shape


def plain_think():
    """NERD_THINK for plain runs: "MIN MAX" or one value, each a duration as
    in a .scn file (200ms, 1s, 0.5); default no think time."""
    spec = os.environ.get("NERD_THINK", "").split()
    if not spec:
        return (0.0, 0.0)
    if len(spec) > 2:
        raise ValueError("NERD_THINK: one duration or two (MIN MAX), not %r"
                         % os.environ["NERD_THINK"])
    lo, hi = seconds(spec[0]), seconds(spec[-1])
    if hi < lo:
        raise ValueError("NERD_THINK: MAX is below MIN")
    return (lo, hi)


# Plain Locust unless NERD_SCENARIO is set: Locust (2.12, load_locustfile)
# takes the first module global that is a LoadTestShape subclass as the
# run's shape, and a shape overrides -u/-r, refuses -t ("It makes no sense
# to combine --run-time and LoadShapes") and ignores the web UI's user
# count and spawn rate.  So no shape class is a module global here unless
# a scenario was asked for (make_shape builds its class inside a function).
if os.environ.get("NERD_SCENARIO"):
    SCALE = float(os.environ.get("NERD_TIME_SCALE", "1"))
    SCENARIO = parse_scenario(scenario_path(os.environ["NERD_SCENARIO"]))

    # one LoadTestShape per built-in scenario (values of a dict, which Locust
    # does not look into), and the selected one, the module's shape (built
    # from the file given, even when its name is a built-in's)
    SHAPES = {}
    for _f in sorted(os.listdir(os.path.join(HERE, "scenarios"))):
        if _f.endswith(".scn"):
            _s = parse_scenario(os.path.join(HERE, "scenarios", _f))
            SHAPES[_s["name"]] = make_shape(_s, SCALE)
    ScenarioShape = make_shape(SCENARIO, SCALE)
    THINK = None  # the shape's current stage says
else:
    THINK = plain_think()


class NerUser(HttpUser):
    """A client of the study: POST /ner with a sentence, then think for a
    uniform time (Locust's between) in the current stage's range under a
    scenario, else in NERD_THINK's (default 0: the next request at once)."""

    def wait_time(self):
        shape = self.environment.shape_class
        lo, hi = shape.think() if hasattr(shape, "think") else (THINK or (0.0, 0.0))
        return random.uniform(lo, hi)

    @task
    def ner(self):
        text = random.choice(TEXTS)
        with self.client.post("/ner", json={"text": text}, name="/ner",
                              catch_response=True) as r:
            if r.status_code != 200:
                r.failure("status %d: %s" % (r.status_code, r.text[:200]))
                return
            try:
                ents = r.json()["entities"]
                if not isinstance(ents, list):
                    raise ValueError("entities is not a list")
            except Exception as e:  # noqa: BLE001 - any malformed answer fails
                r.failure("bad JSON: %s" % e)
