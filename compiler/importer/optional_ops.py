"""Import of ONNX optional ops on values that are always present.

mlc has no run-time optional type: optional graph inputs and outputs are refused at the graph's
boundary, and the `Optional` constructor is not imported. What is left resolves at compile
time: OptionalGetElement of a tensor or sequence is that value, and OptionalHasElement is a
constant (false exactly when its input is absent).
"""

import numpy as np

from . import tensor_ops
from .node import NodeImport

HANDLERS = {}


def _optional_has_element(n: NodeImport):
    return np.array(n.has_input(0))


HANDLERS.update({
    "OptionalGetElement": tensor_ops.HANDLERS["Identity"],  # the value is always present
    "OptionalHasElement": _optional_has_element,
})
