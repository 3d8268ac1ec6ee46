"""mlc-cse: common-subexpression and dead-code elimination of mlc ops.

Upstream `cse` and `canonicalize` leave IRDL-defined ops alone (they declare no memory
effects, so MLIR must assume they have some). Every mlc op is a pure function of its operands
and attributes, so this pass does it for them.

Input: functions in the mlc dialect (any other ops are kept and never merged).
Output: in each block, an mlc op identical to an earlier one (same name, operands, attributes
and result types) replaced by that one; mlc ops whose results are all unused erased.
"""

from mlir import ir


def _key(op) -> tuple:
    attrs = tuple(sorted((name, str(op.attributes[name])) for name in op.attributes))
    return (op.name, tuple(op.operands), attrs, tuple(str(r.type) for r in op.results))


def _is_mlc(op) -> bool:
    return op.name.startswith("mlc.")


def _blocks(module_op) -> list:
    blocks = []

    def visit(op):
        for region in op.regions:
            blocks.extend(region.blocks)
        return ir.WalkResult.ADVANCE

    module_op.walk(visit)
    return blocks


def eliminate(module_op) -> dict[str, str]:
    """Merges and removes mlc ops in place; returns {what: count} for the report."""
    merged = removed = 0
    for block in _blocks(module_op):
        seen = {}
        for op in [o.operation for o in block.operations]:
            if not _is_mlc(op) or op.regions:
                continue
            key = _key(op)
            if key in seen:
                for old, new in zip(op.results, seen[key].results):
                    old.replace_all_uses_with(new)
                op.erase()
                merged += 1
            else:
                seen[key] = op
        for op in reversed([o.operation for o in block.operations]):
            if _is_mlc(op) and not op.regions and all(not list(r.uses) for r in op.results):
                op.erase()
                removed += 1
    return {"mlc-cse": f"{merged} duplicate ops merged, {removed} unused ops removed"}


def run(module_op, pass_) -> None:
    eliminate(module_op)
