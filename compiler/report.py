"""`mlc compile --report`: what the optimizations decided, as one readable table.

The passes record their decisions as module attributes; this module reads them back and
formats them:
  mlc.graph        graph-level work (BatchNorm folding, CSE/DCE): op -> what happened
  mlc.schedule     kernel tag -> its schedule config, or why it kept the naive path
  mlc.fusion       kernel tag -> the ONNX nodes it computes; "epilogue of <node>" -> what
                   joined that GEMM and what did not, and why
  mlc.arena_bytes  the memory arena's size, when memory planning ran
"""

from dataclasses import dataclass, field

from mlir import ir

ATTRS = ("mlc.graph", "mlc.schedule", "mlc.fusion")


@dataclass
class Report:
    graph: dict[str, str] = field(default_factory=dict)
    schedule: dict[str, str] = field(default_factory=dict)
    fusion: dict[str, str] = field(default_factory=dict)
    arena_bytes: int | None = None


def _dict(attrs, name: str) -> dict[str, str]:
    if name not in attrs:
        return {}
    d = ir.DictAttr(attrs[name])
    return {d[i].name: ir.StringAttr(d[i].attr).value for i in range(len(d))}


def collect(module: ir.Module) -> Report:
    attrs = module.operation.attributes
    graph, schedule, fusion = (_dict(attrs, name) for name in ATTRS)
    arena = None
    if "mlc.arena_bytes" in attrs:
        arena = ir.IntegerAttr(attrs["mlc.arena_bytes"]).value
    return Report(graph, schedule, fusion, arena)


def _table(header: tuple, rows: list[tuple]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header) - 1)]
    lines = []
    for row in [header] + rows:
        cells = [str(c).ljust(w) for c, w in zip(row, widths)] + [str(row[-1])]
        lines.append("  ".join(cells).rstrip())
    return lines


def _tag_key(tag: str):
    return (0, int(tag[1:])) if tag[:1] == "k" and tag[1:].isdigit() else (1, tag)


def _kernel_rows(report: Report) -> list[tuple]:
    """One row per group of kernels computing the same nodes with the same schedule."""
    groups: dict[tuple, list[str]] = {}
    for tag in sorted(report.schedule, key=_tag_key):
        nodes = report.fusion.get(tag, tag if not tag[1:].isdigit() else "?")
        groups.setdefault((nodes, report.schedule[tag]), []).append(tag)
    rows = []
    for (nodes, schedule), tags in groups.items():
        kernels = tags[0] if len(tags) == 1 else f"{tags[0]}..{tags[-1]} ({len(tags)})"
        note = ""
        if schedule.startswith(("reg", "panel GEMM")):  # a matmul: what joined its GEMM, what did not
            note = report.fusion.get(f"epilogue of {nodes.split(' + ')[0]}", "")
        elif " + " in nodes:
            note = "elementwise chain fused into one loop"
        rows.append((kernels, schedule, nodes, note))
    return rows


def format_report(report: Report) -> str:
    lines = ["mlc report", "", "graph:"]
    folded = sum(what.startswith("folded into") for what in report.graph.values())
    shifted = sum("became x * s + t" in what for what in report.graph.values())
    if folded or shifted:
        lines.append(f"  {folded} BatchNorms folded into convs, {shifted} became multiply-adds")
    lines += [f"  {op}: {what}" for op, what in report.graph.items()] or ["  (nothing recorded)"]
    lines += ["", "kernels:"]
    rows = _kernel_rows(report)
    if rows:
        lines += ["  " + line for line in _table(("kernel", "schedule", "nodes", "fusion"), rows)]
    else:
        lines.append("  (no schedule recorded: the affine stage did not run)")
    if report.arena_bytes is not None:
        lines += ["", f"memory: arena {report.arena_bytes} bytes "
                      f"({report.arena_bytes / 2**20:.2f} MiB), weights not included"]
    return "\n".join(lines) + "\n"
