"""mlc-externalize-weights: moves large constant globals out of the IR, into the .so's data.

Input: bufferized IR where weights are `memref.global` ops with dense or dense_resource
initializers. Output: each global larger than the inline limit becomes an external
declaration (no initializer), and the module attribute `mlc.weights` maps its symbol to the
initializer it had. The linker step defines those symbols: resource blobs through `.incbin` of
their bytes, splats as zero-initialized storage filled once when the .so loads. So the llvm
dialect, LLVM IR and llc never see weight data.
"""

from mlir import ir

INLINE_LIMIT_BYTES = 256


def _byte_size(memref_type: ir.MemRefType) -> int:
    count = 1
    for d in memref_type.shape:
        count *= d
    width = ir.IntegerType(memref_type.element_type).width if isinstance(
        memref_type.element_type, ir.IntegerType) else {"f16": 16, "bf16": 16, "f32": 32,
                                                         "f64": 64}[str(memref_type.element_type)]
    return count * max(width, 8) // 8


def run(module_op, pass_) -> None:
    moved = {}
    for op in module_op.regions[0].blocks[0].operations:
        if op.operation.name != "memref.global" or "initial_value" not in op.attributes:
            continue
        init = op.attributes["initial_value"]
        if isinstance(init, ir.UnitAttr):  # `uninitialized`: nothing to move
            continue
        memref_type = ir.MemRefType(ir.TypeAttr(op.attributes["type"]).value)
        if _byte_size(memref_type) <= INLINE_LIMIT_BYTES:
            continue
        name = ir.StringAttr(op.attributes["sym_name"]).value
        moved[name] = init
        del op.attributes["initial_value"]
        if "sym_visibility" in op.attributes:
            del op.attributes["sym_visibility"]
    if moved:
        old = module_op.attributes["mlc.weights"] if "mlc.weights" in module_op.attributes else None
        entries = {n.name: n.attr for n in ir.DictAttr(old)} if old is not None else {}
        entries.update(moved)
        module_op.attributes["mlc.weights"] = ir.DictAttr.get(entries)
