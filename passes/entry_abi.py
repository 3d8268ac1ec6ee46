"""mlc-entry-abi: gives `@main` the compiled model's calling convention.

Input: `func.func @main(tensor...) -> (tensor...)` with `mlc.name` argument/result attributes.
Output: `func.func @main(memref inputs..., memref outputs...)` in destination-passing style,
marked `llvm.emit_c_interface`: each input is read through `bufferization.to_tensor restrict`
and each result is written into its caller-provided output buffer with
`bufferization.materialize_in_destination`. Bufferization then writes results in place, and the
C shim passes the caller's own buffers: no copy, no allocation crosses the boundary.
"""

from mlir import ir
from mlir.dialects import bufferization, func

from mlc.errors import CompilerBug


def _memref_of(tensor_type: ir.Type) -> ir.MemRefType:
    t = ir.RankedTensorType(tensor_type)
    return ir.MemRefType.get(list(t.shape), t.element_type)


def rewrite_entry(fn: func.FuncOp) -> None:
    block = fn.regions[0].blocks[0]
    ret = block.operations[len(block.operations) - 1]
    if ret.operation.name != "func.return":
        raise CompilerBug("mlc-entry-abi: @main does not end in func.return")
    in_attrs = list(fn.arg_attrs) if "arg_attrs" in fn.attributes else []
    out_attrs = list(fn.res_attrs) if "res_attrs" in fn.attributes else []
    loc = fn.location
    first = block.operations[0]
    for arg in list(block.arguments):
        tensor_type = arg.type
        arg.set_type(_memref_of(tensor_type))
        with ir.InsertionPoint(first), loc:
            as_tensor = bufferization.ToTensorOp(tensor_type, arg, restrict=True)
        arg.replace_all_uses_except(as_tensor.result, as_tensor.operation)
    results = list(ret.operation.operands)
    with ir.InsertionPoint(ret), loc:
        for value in results:
            out = block.add_argument(_memref_of(value.type), loc)
            bufferization.MaterializeInDestinationOp(None, value, out, restrict=True, writable=True)
        func.ReturnOp([])
    ret.operation.erase()
    arg_types = [a.type for a in block.arguments]
    fn.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get(arg_types, []))
    if in_attrs or out_attrs:
        fn.attributes["arg_attrs"] = ir.ArrayAttr.get(in_attrs + out_attrs)
    if "res_attrs" in fn.attributes:
        del fn.attributes["res_attrs"]
    fn.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()


def run(module_op, pass_) -> None:
    for op in module_op.regions[0].blocks[0].operations:
        if op.operation.name == "func.func" and op.sym_name.value == "main":
            rewrite_entry(op)
