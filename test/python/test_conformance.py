"""The ONNX backend suite against mlc: every case in test/conformance/passing.txt must pass,
and every case in passing-dynamic.txt must pass again with its graph-input dims symbolic.

The cases run in the conformance tool's worker processes, so a case that crashes the compiler
fails alone. The light models are left to test_light_models.py, which checks the same
expected outputs. With MLC_CONFORMANCE_ALL=1 the cases not on the list run too (with a short
timeout) and those that now pass are reported, so the list can grow;
`python -m mlc.tools.conformance --update` rewrites it.
"""

import os
import warnings

from mlc.tools import conformance

# Unlisted cases are mostly refused at import in well under a second; a slow one (a light
# model mlc cannot yet run in time) must not stretch the suite.
UNLISTED_TIMEOUT = 30.0


def _jobs() -> int:
    return int(os.environ.get("MLC_CONFORMANCE_JOBS", "2"))


def _report(outcomes, listed: set, update: str) -> None:
    print("\n" + conformance.format_counts(outcomes))
    newly = sorted(o.case.id for o in outcomes if o.status == "pass" and o.case.id not in listed)
    if newly:
        message = (f"{len(newly)} case(s) newly pass; add them with `{update}`:\n  "
                   + "\n  ".join(newly))
        print(message)
        warnings.warn(message)
    broken = [o for o in outcomes if o.case.id in listed and o.status != "pass"]
    assert not broken, f"{len(broken)} listed case(s) no longer pass:\n" + "\n".join(
        f"  {o.status} {o.case.id}: {o.message.strip()[:300]}" for o in broken)


def test_listed_dynamic_cases_pass():
    """Node cases compiled with every graph-input dim symbolic, run at the test's sizes."""
    listed = set(conformance.read_passing(conformance.DYNAMIC_LIST))
    assert listed, f"{conformance.DYNAMIC_LIST} lists no cases"
    cases = conformance.dynamic_cases()
    known = {c.id for c in cases}
    assert not listed - known, (f"listed dynamic cases that passing.txt no longer has: "
                                f"{sorted(listed - known)}")
    if os.environ.get("MLC_CONFORMANCE_ALL") != "1":
        cases = [c for c in cases if c.id in listed]
    timeouts = {c: UNLISTED_TIMEOUT for c in cases if c.id not in listed}
    outcomes = conformance.run_cases(cases, jobs=_jobs(), timeouts=timeouts)
    _report(outcomes, listed, "python -m mlc.tools.conformance --dynamic --update")


def test_listed_conformance_cases_pass():
    listed = set(conformance.read_passing())
    assert listed, f"{conformance.PASSING_LIST} lists no cases"
    cases = conformance.list_cases()
    known = {c.id for c in cases}
    assert not listed - known, f"listed cases that onnx no longer has: {sorted(listed - known)}"
    cases = [c for c in cases if not c.id.startswith("light/")]
    if os.environ.get("MLC_CONFORMANCE_ALL") != "1":
        cases = [c for c in cases if c.id in listed]
    timeouts = {c: UNLISTED_TIMEOUT for c in cases if c.id not in listed}
    outcomes = conformance.run_cases(cases, jobs=_jobs(), timeouts=timeouts)
    _report(outcomes, listed, "python -m mlc.tools.conformance --update")
