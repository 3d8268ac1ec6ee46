"""Glue between Python lowering functions and MLIR's greedy pattern driver.

A lowering is written as `def lower_relu(op, b) -> Value | list[Value]`: it builds the new IR
(already under the right insertion point and location) and returns the replacement values,
or None when it does not apply. `patterns_pass` turns a table of those into a pass body.
The bindings read a truthy return from a pattern as "no match"; `_as_pattern` hides that.
"""

from collections.abc import Callable

from mlir import ir
from mlir.rewrite import RewritePatternSet, apply_patterns_and_fold_greedily, GreedyRewriteConfig

from mlc.errors import CompilerBug

Lowering = Callable[[ir.Operation], "ir.Value | list[ir.Value] | None"]


def _as_pattern(lower: Lowering):
    def pattern(op, rewriter):
        with rewriter.ip, op.location:
            replacement = lower(op.operation)
        if replacement is None:
            return True  # no match
        if isinstance(replacement, (ir.OpView, ir.Operation)):
            replacement = list(replacement.results)
        elif isinstance(replacement, ir.Value):
            replacement = [replacement]
        rewriter.replace_op(op, list(replacement))
        return False  # success
    return pattern


def patterns_pass(table: dict[str, Lowering], *, legal_prefix: str | None = None):
    """A pass body that applies `table` ({op name: lowering}) greedily on the anchor op.

    With `legal_prefix`, any op of that dialect left afterwards is a compiler bug.
    """
    def run(op, pass_):
        patterns = RewritePatternSet()
        for name, lower in table.items():
            patterns.add(name, _as_pattern(lower))
        config = GreedyRewriteConfig()
        config.enable_folding = False  # keep constants (weights) as they are; canonicalize folds later
        apply_patterns_and_fold_greedily(op, patterns.freeze(), config)
        if legal_prefix:
            for left in _ops_with_prefix(op, legal_prefix):
                raise CompilerBug(f"{left.name} at {left.location} was not lowered",
                                  hint=f"no lowering for {left.name} in this pass")
    return run


def _ops_with_prefix(root, prefix: str):
    found = []

    def visit(op):
        if op.name.startswith(prefix):
            found.append(op)
        return ir.WalkResult.ADVANCE

    root.walk(visit)
    return found
