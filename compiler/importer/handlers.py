"""The table of op handlers: ONNX op type -> function(NodeImport) -> result value(s)."""

from . import (control_flow, grid_sample, indexing_ops, math_ops, nn_ops, optional_ops,
               quant_ops, reduction_ops, resize, rnn_ops, selection_ops, sequence_ops, signal_ops,
               tensor_ops)

HANDLERS = {**control_flow.HANDLERS, **grid_sample.HANDLERS, **indexing_ops.HANDLERS,
            **math_ops.HANDLERS, **nn_ops.HANDLERS, **optional_ops.HANDLERS,
            **quant_ops.HANDLERS, **reduction_ops.HANDLERS, **resize.HANDLERS,
            **rnn_ops.HANDLERS, **selection_ops.HANDLERS, **sequence_ops.HANDLERS, **signal_ops.HANDLERS,
            **tensor_ops.HANDLERS}
