"""Fusion decisions, read back from locations, for `mlc compile --report`.

Every linalg op the lowering makes, and every op in its body, carries the location of the
ONNX node it came from. `linalg-fuse-elementwise-ops` (linalg stage) merges elementwise chains
into one generic whose body keeps the merged nodes' locations, so a kernel's ONNX nodes are the
names of its own location and its body ops'. For each conv and matmul, `epilogues` says what
became part of the GEMM (a bias: the accumulators start from it) and what did not (its
elementwise consumers, with the reason). A conv computed as an NHWC GEMM absorbs its only
elementwise consumer into the pass that writes the result back as NCHW.

The records go on the module as `mlc.fusion`: kernel tag -> its ONNX nodes, and
"epilogue of <node>" -> the decision.
"""

import re

from mlir import ir

from mlc.passes.linalg_builders import producer
from mlc.passes.schedule import depthwise, small_conv
from mlc.passes.schedule.conv import nhwc_epilogue, nhwc_wide
from mlc.passes.schedule.matmul import FUSED_ATTR

FUSION_ATTR = "mlc.fusion"
GEMM_OPS = ("linalg.conv_2d_nchw_fchw", "linalg.conv_2d_nhwc_hwcf", "linalg.conv_2d_ngchw_gfchw",
            "linalg.matmul")


def _name(location: ir.Location) -> str | None:
    match = re.match(r'loc\("([^"]*)"[()]', str(location))
    return match.group(1) if match else None


def node_names(op) -> list[str]:
    """The ONNX nodes `op` computes: its body ops' location names in order, then its own."""
    names = []

    def add(location):
        name = _name(location)
        if name and name not in names:
            names.append(name)

    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                add(inner.location)
    add(op.location)
    return names


def _is_elementwise(op) -> bool:
    if op.name != "linalg.generic":
        return False
    return all("parallel" in str(it) for it in ir.ArrayAttr(op.attributes["iterator_types"]))


def _consumers(value: ir.Value) -> list:
    """The ops using `value`, looking through reshapes (the conv -> matmul rewrite adds them)."""
    found = []
    for use in value.uses:
        user = use.owner.operation if hasattr(use.owner, "operation") else use.owner
        if user.name in ("tensor.expand_shape", "tensor.collapse_shape"):
            found += _consumers(user.results[0])
        else:
            found.append(user)
    return found


def epilogues(module_op) -> dict[str, str]:
    """For each conv and matmul: which of its neighbours joined the GEMM, which did not, why."""
    records = {}

    def visit(op):
        if op.name not in GEMM_OPS:
            return ir.WalkResult.ADVANCE
        name = (node_names(op) or [str(op.location).replace('"', "")])[0]
        if depthwise.is_depthwise(op) or small_conv.applies(op):
            kernel = depthwise if depthwise.is_depthwise(op) else small_conv
            records[f"epilogue of {name}"] = kernel.describe_fusion(op)
            return ir.WalkResult.ADVANCE
        init = producer(op.operands[len(op.operands) - 1])
        parts = []
        if init is not None and init.name == "linalg.generic":
            parts.append("bias added by the NHWC output pass" if op.name == "linalg.conv_2d_nhwc_hwcf"
                         and nhwc_wide(op) else "bias fused (the accumulators start from it)")
        users = _consumers(op.results[0])
        elementwise = [u for u in users if _is_elementwise(u)]
        absorbed = nhwc_epilogue(op)
        if absorbed is not None:
            nodes = " + ".join(node_names(absorbed[0])) or absorbed[0].name
            parts.append(f"{nodes} fused into the NHWC output pass (one write of the result)")
            elementwise = []
        for user in elementwise:
            nodes = " + ".join(node_names(user)) or user.name
            parts.append(f"not fused: {nodes} (elementwise consumer) runs as its own vectorized "
                         f"loop over the output: the register-tiled GEMM has no epilogue hook yet")
        if not elementwise and absorbed is None:
            parts.append("no elementwise consumer to fuse")
        elif absorbed is None and len(users) > len(elementwise):
            parts.append("its result is also used as it is")
        records[f"epilogue of {name}"] = "; ".join(parts)
        return ir.WalkResult.ADVANCE

    module_op.walk(visit)
    return records


def kernel_nodes(module_op, kernel_attr: str) -> dict[str, str]:
    """Kernel tag -> the ONNX nodes it computes ('a + b' where a chain was fused)."""
    records = {}

    def visit(op):
        if kernel_attr in op.attributes:
            tag = ir.StringAttr(op.attributes[kernel_attr]).value
            if FUSED_ATTR in op.attributes:
                records[tag] = ir.StringAttr(op.attributes[FUSED_ATTR]).value
            else:
                records[tag] = " + ".join(node_names(op)) or op.name
        return ir.WalkResult.ADVANCE

    module_op.walk(visit)
    return records


def fused_epilogues(module_op) -> dict[str, str]:
    """"epilogue of <GEMM node>" -> what its kernel computes in registers, for each GEMM
    kernel that took its elementwise consumer (`matmul.fuse_into_consumer`)."""
    records = {}

    def visit(op):
        if FUSED_ATTR in op.attributes:
            gemm, *rest = ir.StringAttr(op.attributes[FUSED_ATTR]).value.split(" + ")
            records[f"epilogue of {gemm}"] = (
                f"{' + '.join(rest)} fused: applied to the accumulators in registers before "
                f"the store (one write of the result)")
        return ir.WalkResult.ADVANCE

    module_op.walk(visit)
    return records


def record(module_op, records: dict[str, str]) -> None:
    module_op.attributes[FUSION_ATTR] = ir.DictAttr.get(
        {k: ir.StringAttr.get(v) for k, v in records.items()})
