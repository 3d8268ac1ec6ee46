"""convert-i1-tensors-to-i8: bool tensors are stored one byte per element.

ONNX and numpy store a bool as one byte holding 0 or 1, and so does the compiled model's C ABI;
MLIR's memref lowering has no i1 memrefs at all (finalize-memref-to-llvm asserts on them). So
before bufferization every `tensor<...xi1>` becomes `tensor<...xi8>` holding 0 or 1, while
i1 stays the type of bool *scalars*: a linalg body reads a byte and compares it with 0, and a
bool it yields into a byte tensor is zero-extended. This is the one place that knows how bools
are stored; the mlc dialect and its lowerings keep i1 tensors.

Input: functions on tensors (linalg, tensor, arith), before bufferization; i1 tensor
constants are inline `dense<...>` attributes (the importer stores larger bool weights as i8
plus a cast). Output: the same IR with no i1 tensor anywhere: function signatures, constants,
op results and linalg block arguments use i8, and i1 scalars appear only inside bodies.
"""

import numpy as np
from mlir import ir
from mlir.dialects import arith

from mlc.errors import CompilerBug


def _i1():
    return ir.IntegerType.get_signless(1)


def _i8():
    return ir.IntegerType.get_signless(8)


def _is_i1(t: ir.Type) -> bool:
    return isinstance(t, ir.IntegerType) and ir.IntegerType(t).width == 1


def _bool_tensor(t: ir.Type) -> bool:
    return isinstance(t, ir.RankedTensorType) and _is_i1(ir.RankedTensorType(t).element_type)


def _byte_tensor_of(t: ir.Type) -> ir.Type:
    if not _bool_tensor(t):
        return t
    return ir.RankedTensorType.get(list(ir.RankedTensorType(t).shape), _i8())


def _to_byte(value: ir.Value) -> ir.Value:
    """A bool scalar as the byte stored for it (0 or 1); built before the current point."""
    return arith.extui(_i8(), value)


def _to_bool(value: ir.Value) -> ir.Value:
    return arith.cmpi(arith.CmpIPredicate.ne, value, arith.constant(_i8(), 0))


def _byte_constant(attr: ir.Attribute, type_: ir.Type) -> ir.Attribute:
    if not isinstance(attr, ir.DenseElementsAttr):
        raise CompilerBug(f"convert-i1-tensors-to-i8: a bool constant that is not inline: {attr}",
                          hint="the importer stores large bool weights as i8 tensors plus a cast")
    dense = ir.DenseElementsAttr(attr)
    if dense.is_splat:
        value = ir.IntegerAttr(dense.get_splat_value()).value != 0
        return ir.DenseElementsAttr.get_splat(type_, ir.IntegerAttr.get(_i8(), int(value)))
    ints = ir.DenseIntElementsAttr(attr)
    data = np.array([int(ints[i]) != 0 for i in range(len(ints))], np.int8)
    return ir.DenseElementsAttr.get(data.reshape(ir.RankedTensorType(type_).shape), type=_i8())


def _convert_func(fn) -> None:
    fn_type = ir.FunctionType(ir.TypeAttr(fn.attributes["function_type"]).value)
    fn.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get(
        [_byte_tensor_of(t) for t in fn_type.inputs], [_byte_tensor_of(t) for t in fn_type.results]))
    if fn.regions[0].blocks:
        for arg in fn.regions[0].blocks[0].arguments:
            arg.set_type(_byte_tensor_of(arg.type))


def _convert_linalg_body(op) -> None:
    """Block arguments of byte operands read bytes; bools yielded into byte outputs are widened."""
    block = op.regions[0].blocks[0]
    operands = list(op.operands)
    if len(block.arguments) != len(operands):
        raise CompilerBug(f"convert-i1-tensors-to-i8: {op.name} has {len(block.arguments)} block "
                          f"arguments for {len(operands)} operands")
    for arg, operand in zip(block.arguments, operands):
        t = operand.type
        elem = ir.ShapedType(t).element_type if isinstance(t, ir.ShapedType) else t
        if _is_i1(arg.type) and not _is_i1(elem):
            arg.set_type(_i8())
            if not list(arg.uses):
                continue
            with ir.InsertionPoint.at_block_begin(block), op.location:
                as_bool = _to_bool(arg)
            arg.replace_all_uses_except(as_bool, as_bool.owner.operation)
    # The yielded values go to the outputs, which are the last operands.
    terminator = block.operations[len(block.operations) - 1]
    outs = operands[len(operands) - len(terminator.operands):]
    _widen_yield(block, [ir.ShapedType(v.type).element_type for v in outs])


def _widen_yield(block, elems: list[ir.Type]) -> None:
    terminator = block.operations[len(block.operations) - 1]
    for i, (value, elem) in enumerate(zip(list(terminator.operands), elems)):
        if _is_i1(value.type) and not _is_i1(elem):
            with ir.InsertionPoint(terminator), terminator.location:
                terminator.operands[i] = _to_byte(value)


def _convert_op(op) -> None:
    name = op.name
    if name == "func.func":
        _convert_func(op)
        return
    if name == "arith.constant" and _bool_tensor(op.results[0].type):
        new_type = _byte_tensor_of(op.results[0].type)
        op.attributes["value"] = _byte_constant(op.attributes["value"], new_type)
    # Scalar bools that flow into a byte tensor are widened first.
    scalar_slots = {"linalg.fill": [0], "tensor.insert": [0], "tensor.splat": [0],
                    "tensor.from_elements": range(len(op.operands))}.get(name, [])
    for i in scalar_slots:
        value = op.operands[i]
        if _is_i1(value.type) and any(_bool_tensor(r.type) for r in op.results):
            with ir.InsertionPoint(op), op.location:
                op.operands[i] = _to_byte(value)
    for result in op.results:
        result.set_type(_byte_tensor_of(result.type))
    if name.startswith("linalg.") and len(op.regions) == 1 and op.regions[0].blocks:
        _convert_linalg_body(op)
    elif name in ("scf.for", "scf.while"):  # loop-carried bool tensors
        for block in op.regions[0].blocks:
            for arg in block.arguments:
                arg.set_type(_byte_tensor_of(arg.type))
    elif name == "tensor.pad":
        block = op.regions[0].blocks[0]
        _widen_yield(block, [ir.ShapedType(op.results[0].type).element_type])
    elif name == "tensor.extract" and _is_i1(op.results[0].type) and not _is_i1(
            ir.ShapedType(op.operands[0].type).element_type):
        result = op.results[0]
        result.set_type(_i8())
        with ir.InsertionPoint.after(op), op.location:
            as_bool = _to_bool(result)
        result.replace_all_uses_except(as_bool, as_bool.owner.operation)


def run(module_op, pass_) -> None:
    ops = []

    def collect(op):
        ops.append(op)
        return ir.WalkResult.ADVANCE

    module_op.walk(collect, ir.WalkOrder.PRE_ORDER)
    for op in ops:
        _convert_op(op)
    left = []

    def check(op):
        if any(_bool_tensor(r.type) for r in op.results):
            left.append(op)
        return ir.WalkResult.ADVANCE

    module_op.walk(check)
    if left:
        raise CompilerBug(f"convert-i1-tensors-to-i8: {left[0].name} still has an i1 tensor result")
