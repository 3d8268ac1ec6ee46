"""ONNX backend conformance: runs onnx's backend test cases against mlc and counts passes.

Categories: `node` (the 1,884 single-op cases onnx 1.23 generates from its own test-case
definitions, in memory; nothing is downloaded), `simple`, `pytorch-converted`,
`pytorch-operator` (model + test_data_set_* folders in the onnx wheel) and `light` (the
real-architecture models under onnx/backend/test/data/light, fed onnx's deterministic dummy
inputs). Each case compiles through `mlc.backend` (so the compile cache applies) and is
compared exactly as onnx's `BackendTest` compares.

Cases run in long-lived worker processes, several at a time; a case that crashes its worker
(an LLVM assertion, a segfault) or runs past the timeout counts as failed, and the worker is
replaced, so one bad case never ends the run.

    python -m mlc.tools.conformance                 # pass counts per category
    python -m mlc.tools.conformance -k relu -v      # matching cases, one line each
    python -m mlc.tools.conformance --update        # rewrite test/conformance/passing.txt

Dynamic mode (`--dynamic`) runs the node cases of passing.txt a second time with every
graph-input dim made symbolic (`mlc.tools.symbolic_inputs`): one compile, run at the test's
sizes. Its own list is test/conformance/passing-dynamic.txt (`--dynamic --update`).
"""

import argparse
import glob
import multiprocessing
import os
import re
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

CATEGORIES = ("node", "simple", "pytorch-converted", "pytorch-operator", "light")
PASSING_LIST = Path(__file__).resolve().parent.parent / "test" / "conformance" / "passing.txt"
DYNAMIC_LIST = PASSING_LIST.with_name("passing-dynamic.txt")
DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Case:
    category: str
    name: str
    dynamic: bool = False  # every graph-input dim made symbolic

    @property
    def id(self) -> str:
        return f"{self.category}/{self.name}"


@dataclass
class Outcome:
    case: Case
    status: str        # pass, fail (wrong numbers), error (mlc refused or raised), crash, timeout
    message: str = ""
    seconds: float = 0.0


# -- loading cases --------------------------------------------------------------------------
def _data_dir() -> Path:
    import onnx.backend.test.loader as loader

    return Path(loader.DATA_DIR)


def list_cases(categories=CATEGORIES) -> list[Case]:
    from onnx.backend.test.loader import load_model_tests

    cases = []
    for category in categories:
        kind = "real" if category == "light" else category
        if category == "node":
            tests = _node_cases().values()
        else:
            tests = load_model_tests(kind=kind)
        cases += sorted((Case(category, t.name) for t in tests), key=lambda c: c.name)
    return cases


_NODE_CASES = None


def _node_cases() -> dict:
    """onnx's node cases, generated in memory from its case definitions (about 10 s)."""
    global _NODE_CASES
    if _NODE_CASES is None:
        import warnings

        from onnx.backend.test.loader import load_model_tests

        with warnings.catch_warnings(), _quiet_numpy():
            warnings.simplefilter("ignore")
            _NODE_CASES = {t.name: t for t in load_model_tests(kind="node")}
    return _NODE_CASES


class _quiet_numpy:
    def __enter__(self):
        import numpy as np

        self._old = np.seterr(all="ignore")

    def __exit__(self, *exc):
        import numpy as np

        np.seterr(**self._old)


def load_payload(case: Case):
    """(model bytes, [(inputs, expected outputs)], rtol, atol) for one case."""
    import onnx
    from onnx import numpy_helper
    from onnx.backend.test.runner import Runner

    if case.category == "node":
        t = _node_cases()[case.name]
        data = [([_array(x) for x in ins], [_array(y) for y in outs]) for ins, outs in t.data_sets]
        model = t.model
        if case.dynamic:
            from mlc.tools.symbolic_inputs import make_inputs_symbolic

            model = make_inputs_symbolic(model)
        return model.SerializeToString(), data, t.rtol, t.atol
    if case.category == "light":
        import json

        info = json.loads((_data_dir() / "real" / case.name / "data.json").read_text())
        path = _data_dir().parent.parent.parent.parent / info["url"]
        model = onnx.load(path)
        inits = {i.name for i in model.graph.initializer}
        inputs = [Runner.generate_dummy_data(x, seed=0, name=info["model_name"], random=False)
                  for x in model.graph.input if x.name not in inits]
        prefix = str(path)[: -len(".onnx")]
        outputs = [numpy_helper.to_array(_read_tensor(f"{prefix}_output_{i}.pb"))
                   for i in range(len(model.graph.output))]
        return path.read_bytes(), [(inputs, outputs)], info.get("rtol", 1e-3), info.get("atol", 1e-7)
    folder = _data_dir() / case.category / case.name
    model_bytes = (folder / "model.onnx").read_bytes()
    data = []
    for ds in sorted(glob.glob(str(folder / "test_data_set_*"))):
        n_in = len(glob.glob(os.path.join(ds, "input_*.pb")))
        n_out = len(glob.glob(os.path.join(ds, "output_*.pb")))
        ins = [numpy_helper.to_array(_read_tensor(os.path.join(ds, f"input_{i}.pb"))) for i in range(n_in)]
        outs = [numpy_helper.to_array(_read_tensor(os.path.join(ds, f"output_{i}.pb"))) for i in range(n_out)]
        data.append((ins, outs))
    return model_bytes, data, 1e-3, 1e-7


def _read_tensor(path: str):
    import onnx

    tensor = onnx.TensorProto()
    tensor.ParseFromString(Path(path).read_bytes())
    return tensor


def _array(x):
    import numpy as np
    from onnx import numpy_helper

    import onnx

    if isinstance(x, onnx.TensorProto):
        return numpy_helper.to_array(x)
    return x if isinstance(x, (np.ndarray, list, dict)) else np.asarray(x)


# -- running one case (inside a worker) -------------------------------------------------------
def run_payload(payload) -> tuple[str, str]:
    from onnx.backend.test.runner import Runner

    import mlc.backend
    from mlc.errors import MlcError

    model_bytes, data_sets, rtol, atol = payload
    try:
        rep = mlc.backend.prepare(model_bytes)
        for inputs, expected in data_sets:
            Runner.assert_similar_outputs(expected, rep.run(inputs), rtol, atol)
    except MlcError as e:
        return "error", f"{type(e).__name__}: {e}"
    except AssertionError as e:
        return "fail", str(e)
    except Exception as e:  # noqa: BLE001 - a case's failure is data here, not a crash
        return "error", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=-3)}"
    return "pass", ""


def _worker_main(conn) -> None:
    # Compile each case on one thread: the run is already parallel across workers.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        case, payload = job
        started = time.perf_counter()
        try:
            if payload is None:
                payload = load_payload(case)
            status, message = run_payload(payload)
        except Exception as e:  # noqa: BLE001 - loading the case itself failed
            status, message = "error", f"loading the case failed: {type(e).__name__}: {e}"
        conn.send((status, message[:4000], time.perf_counter() - started))


class _Worker:
    def __init__(self, ctx):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.case: Case | None = None
        self.deadline = 0.0
        self.started = 0.0

    def give(self, case: Case, payload, timeout: float) -> None:
        self.case, self.started = case, time.perf_counter()
        self.deadline = self.started + timeout
        self.conn.send((case, payload))

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


# -- the run ----------------------------------------------------------------------------------
def run_cases(cases: list[Case], jobs: int = 2, timeout: float = DEFAULT_TIMEOUT,
              on_result=None, timeouts: dict[Case, float] | None = None) -> list[Outcome]:
    """Runs every case in `jobs` worker processes; a crash or timeout fails only its case.

    `timeouts` overrides the per-case timeout for some cases.
    """
    ctx = multiprocessing.get_context("spawn")
    # The light models take the longest: starting them first keeps the workers evenly busy.
    pending = sorted(cases, key=lambda c: c.category == "light")
    # Node cases live in memory here (generated once); the others load inside the worker.
    needs_node = any(c.category == "node" for c in cases)
    if needs_node:
        _node_cases()
    workers = [_Worker(ctx) for _ in range(max(1, min(jobs, len(cases))))]
    outcomes = []

    def finish(worker: _Worker, status: str, message: str, seconds: float) -> None:
        outcome = Outcome(worker.case, status, message, seconds)
        worker.case = None
        outcomes.append(outcome)
        if on_result:
            on_result(outcome, len(outcomes), len(cases))

    try:
        while pending or any(w.case for w in workers):
            for w in workers:
                if w.case is None and pending:
                    case = pending.pop()
                    payload = load_payload(case) if case.category == "node" else None
                    w.give(case, payload, (timeouts or {}).get(case, timeout))
            busy = [w for w in workers if w.case]
            now = time.perf_counter()
            wait_for = max(0.0, min(w.deadline for w in busy) - now)
            ready = wait([x for w in busy for x in (w.conn, w.process.sentinel)], timeout=wait_for)
            for i, w in enumerate(workers):
                if not w.case:
                    continue
                if w.conn in ready:
                    try:
                        status, message, seconds = w.conn.recv()
                        finish(w, status, message, seconds)
                        continue
                    except (EOFError, OSError):
                        pass
                if w.process.sentinel in ready or not w.process.is_alive():
                    w.process.join()
                    code = w.process.exitcode
                    how = f"signal {-code}" if code is not None and code < 0 else f"exit {code}"
                    finish(w, "crash", f"the worker died ({how})", time.perf_counter() - w.started)
                    w.kill()
                    workers[i] = _Worker(ctx)
                elif time.perf_counter() >= w.deadline:
                    limit = w.deadline - w.started
                    finish(w, "timeout", f"no result within {limit:g} s", limit)
                    w.kill()
                    workers[i] = _Worker(ctx)
    finally:
        for w in workers:
            try:
                w.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
            w.process.join(timeout=5)
            if w.process.is_alive():
                w.kill()
    order = {c: i for i, c in enumerate(cases)}
    return sorted(outcomes, key=lambda o: order[o.case])


# -- reporting --------------------------------------------------------------------------------
def dynamic_cases(listed: list[str] | None = None) -> list[Case]:
    """The node cases of passing.txt, each with every graph-input dim symbolic."""
    listed = read_passing() if listed is None else listed
    return [Case("node", i.split("/", 1)[1], dynamic=True) for i in listed if i.startswith("node/")]


def counts(outcomes: list[Outcome]) -> dict[str, tuple[int, int]]:
    total, passed = Counter(), Counter()
    for o in outcomes:
        key = o.case.category + (" (dynamic)" if o.case.dynamic else "")
        total[key] += 1
        passed[key] += o.status == "pass"
    order = [c + suffix for c in CATEGORIES for suffix in ("", " (dynamic)")]
    return {c: (passed[c], total[c]) for c in order if total[c]}


def format_counts(outcomes: list[Outcome]) -> str:
    lines = []
    for category, (passed, total) in counts(outcomes).items():
        lines.append(f"{category + ':':22}{passed:5} of {total:5} passing ({100 * passed / total:.1f}%)")
    statuses = Counter(o.status for o in outcomes)
    lines.append("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    return "\n".join(lines)


def read_passing(path: Path = PASSING_LIST) -> list[str]:
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def write_passing(outcomes: list[Outcome], path: Path = PASSING_LIST) -> None:
    """Writes the list anew from the cases run: those that passed are listed, those that failed
    are not; cases not run (a run narrowed with -k or -c) keep their entries."""
    path.parent.mkdir(parents=True, exist_ok=True)
    run = {o.case.id for o in outcomes}
    kept = [i for i in read_passing(path) if i not in run]
    ids = sorted(kept + [o.case.id for o in outcomes if o.status == "pass"])
    if path == DYNAMIC_LIST:
        header = ("# Node cases of passing.txt that mlc also passes with every graph-input dim "
                  "symbolic;\n# test/python/test_conformance.py keeps them passing.\n"
                  "# Generated by `python -m mlc.tools.conformance --dynamic --update`; "
                  "do not edit by hand.\n")
    else:
        header = ("# ONNX backend cases mlc passes; test/python/test_conformance.py keeps them passing.\n"
                  "# Generated by `python -m mlc.tools.conformance --update`; do not edit by hand.\n")
    path.write_text(header + "".join(f"{i}\n" for i in ids))


def _progress(stream):
    started = time.perf_counter()
    tally = Counter()

    def show(outcome: Outcome, done: int, total: int) -> None:
        tally[outcome.status] += 1
        elapsed = time.perf_counter() - started
        stream.write(f"\r\033[K[{done}/{total}] {elapsed:.0f}s pass {tally['pass']} "
                     f"fail {done - tally['pass']}  {outcome.case.id}")
        stream.flush()
    return show


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlc.tools.conformance",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--category", action="append", choices=CATEGORIES,
                        help="run only this category (repeatable; default: all)")
    parser.add_argument("-k", "--filter", help="run only cases whose id matches this regex")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds per case (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    parser.add_argument("--failures", action="store_true", help="print why each failing case failed")
    parser.add_argument("--dynamic", action="store_true",
                        help="run passing.txt's node cases with every graph-input dim symbolic")
    parser.add_argument("--update", action="store_true",
                        help=f"rewrite {PASSING_LIST.relative_to(PASSING_LIST.parents[2])} "
                             f"(with --dynamic, {DYNAMIC_LIST.name}) for the cases run: with "
                             "-k or -c, the others keep their entries")
    args = parser.parse_args(argv)
    if args.dynamic and args.category:
        parser.error("--dynamic runs node cases only (no -c)")

    cases = dynamic_cases() if args.dynamic else list_cases(args.category or CATEGORIES)
    if args.filter:
        cases = [c for c in cases if re.search(args.filter, c.id)]
    tty = sys.stderr.isatty()
    callbacks = []
    if tty and not args.verbose:
        callbacks.append(_progress(sys.stderr))
    if args.verbose:
        callbacks.append(lambda o, *_: print(f"{o.status.upper():8} {o.case.id} ({o.seconds:.1f}s)",
                                             flush=True))
    started = time.perf_counter()
    outcomes = run_cases(cases, args.jobs, args.timeout,
                         on_result=lambda *a: [cb(*a) for cb in callbacks])
    if tty and not args.verbose:
        sys.stderr.write("\r\033[K")
    if args.failures:
        for o in outcomes:
            if o.status != "pass":
                first = o.message.strip().splitlines()[0] if o.message.strip() else ""
                print(f"{o.status:8} {o.case.id}: {first[:200]}")
    print(format_counts(outcomes))
    print(f"wall time: {time.perf_counter() - started:.0f} s on {args.jobs} worker(s)")
    if args.update:
        path = DYNAMIC_LIST if args.dynamic else PASSING_LIST
        write_passing(outcomes, path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
