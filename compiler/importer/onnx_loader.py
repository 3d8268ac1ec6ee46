"""Reads an ONNX file and makes it ready to import: parse, upgrade old opsets, check, infer shapes.

A `.onnx` file is the binary protobuf; a `.onnxtxt` file is ONNX's text format
(`onnx.parser.parse_model`), whose `#` comments let importer tests carry their `# RUN:` and
`# CHECK:` lines. Every failure here is the user's input, reported as an `InputError` naming
the file.

Weights kept in external data files are read from the model's folder, and from nowhere else.
Models older than opset 7 (the pytorch exporters of 2018 wrote opset 6) are upgraded to opset 7
by `onnx.version_converter`, so the handlers only ever see opsets 7 and later.
"""

from pathlib import Path

import onnx
import onnx.parser
import onnx.version_converter
from onnx import external_data_helper
from google.protobuf.message import DecodeError

from mlc.errors import InputError, UnsupportedError

TEXT_SUFFIX = ".onnxtxt"

# The newest default-domain opset that onnx 1.23 defines; mlc imports opsets 7 through this.
MIN_OPSET = 7
MAX_OPSET = onnx.defs.onnx_opset_version()


def load_onnx(path: str | Path) -> onnx.ModelProto:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read the file ({e.strerror})") from None
    if path.suffix == TEXT_SUFFIX:
        return _parse_text(path, data)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise InputError(f"{path}: not a valid ONNX model (protobuf parse failed: {e}); "
                         "the file may be truncated or not an ONNX file at all") from None
    if not model.HasField("graph") or not model.graph.node and not model.graph.output:
        raise InputError(f"{path}: not an ONNX model (no graph found in the file)")
    load_external_data(model, path)
    return model


def _tensors(graph: onnx.GraphProto):
    """The graph's initializers and tensor attributes, subgraphs included."""
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            for sub in [attr.g] if attr.HasField("g") else []:
                yield from _tensors(sub)
            for sub in attr.graphs:
                yield from _tensors(sub)


def load_external_data(model: onnx.ModelProto, path: Path) -> None:
    """Reads the weights a model keeps in files beside it (ONNX external data) into the model.

    A location must name a file inside the model's folder: an absolute path, or one that
    climbs out of the folder (`../`, a symlink), is refused before anything is read, so a
    model cannot make the compiler read arbitrary files into a shared object."""
    tensors = [t for t in _tensors(model.graph) if external_data_helper.uses_external_data(t)]
    if not tensors:
        return
    folder = path.resolve().parent
    for t in tensors:
        info = {e.key: e.value for e in t.external_data}
        location = info.get("location", "")
        target = (folder / location).resolve()
        if not location or Path(location).is_absolute() or not target.is_relative_to(folder):
            raise InputError(f"{path}: initializer '{t.name}' keeps its data at '{location}', "
                             "outside the model's folder; mlc reads external data only from "
                             "files beside the model")
        if not target.is_file():
            raise InputError(f"{path}: initializer '{t.name}': its external data file "
                             f"'{location}' does not exist")
    try:
        external_data_helper.load_external_data_for_model(model, str(folder))
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read the external data of its initializers: {e}") from None


def _parse_text(path: Path, data: bytes) -> onnx.ModelProto:
    try:
        return onnx.parser.parse_model(data.decode())
    except UnicodeDecodeError:
        raise InputError(f"{path}: not an ONNX text model (the file is not UTF-8 text)") from None
    except onnx.parser.ParseError as e:
        # The parser's message is bytes: '[ParseError at position (line: 3 column: 9)]\n...'.
        detail = e.args[0].decode(errors="replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise InputError(f"{path}: not a valid ONNX text model: {' '.join(detail.split())}") from None


def _declared_opset(model: onnx.ModelProto) -> int | None:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return entry.version
    return None


def upgrade_old_opset(model: onnx.ModelProto, source: str) -> onnx.ModelProto:
    """`model` itself when its default-domain opset is 7 or later, else a copy converted to 7."""
    version = _declared_opset(model)
    if version is None or version >= MIN_OPSET:
        return model
    _check(model, source)  # the converter's errors on an invalid model say little
    try:
        return onnx.version_converter.convert_version(model, MIN_OPSET)
    except (RuntimeError, ValueError, onnx.version_converter.ConvertError) as e:
        symbolic = any(not d.HasField("dim_value") for vi in model.graph.input
                       for d in vi.type.tensor_type.shape.dim)
        # The converter's broadcast adapters read the inputs' dims.
        hint = ("pin the graph inputs' dims with --input-shape NAME=D0xD1x..." if symbolic
                else None)
        raise InputError(f"{source}: opset {version} is older than mlc supports ({MIN_OPSET} to "
                         f"{MAX_OPSET}), and onnx.version_converter cannot upgrade it: "
                         f"{_converter_message(e)}", hint=hint) from None


def _converter_message(error: Exception) -> str:
    # The converter's errors are C++ assertions: 'path/convert.cc:101: convert_graph:
    # Assertion `...` failed: <message>'; the message is the part a user can act on.
    text = " ".join(str(error).split())
    return text.rsplit(" failed: ", 1)[-1]


def default_opset(model: onnx.ModelProto, source: str) -> int:
    version = _declared_opset(model)
    if version is None:
        others = ", ".join(f"{e.domain} {e.version}" for e in model.opset_import)
        if others:
            # ai.onnx.ml and ai.onnx.preview.training models: valid ONNX, not mlc's domain.
            raise UnsupportedError(f"{source}: the model imports only the opsets {others}; "
                                   "mlc compiles only ops of the default ONNX domain")
        raise InputError(f"{source}: the model imports no ONNX opset")
    if not MIN_OPSET <= version <= MAX_OPSET:
        raise InputError(f"{source}: opset {version} is outside the range mlc supports "
                         f"({MIN_OPSET} to {MAX_OPSET})",
                         hint="convert the model with onnx.version_converter")
    return version


def pin_input_shapes(model: onnx.ModelProto, shapes: dict, source: str) -> onnx.ModelProto:
    """A copy of `model` whose named graph inputs have the given static dims."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    weights = {init.name for init in model.graph.initializer}
    inputs = {vi.name: vi for vi in model.graph.input if vi.name not in weights}
    for name, dims in shapes.items():
        if name not in inputs:
            raise InputError(f"{source}: --input-shape names '{name}', which is not a graph input",
                             hint="graph inputs: " + ", ".join(inputs))
        shape = inputs[name].type.tensor_type.shape
        if len(shape.dim) != len(dims) and len(shape.dim):
            raise InputError(f"{source}: --input-shape gives '{name}' rank {len(dims)}, "
                             f"the model declares rank {len(shape.dim)}")
        for old, new in zip(shape.dim, dims):
            if old.HasField("dim_value") and old.dim_value != new:
                raise InputError(f"{source}: --input-shape gives '{name}' dims {list(dims)}, "
                                 f"but the model fixes a dim to {old.dim_value}")
        del shape.dim[:]
        for d in dims:
            shape.dim.add().dim_value = d
    return model


def name_input_dims(model: onnx.ModelProto) -> onnx.ModelProto:
    """A graph input dim with neither a size nor a name gets the name INPUT_dD: each dynamic
    input dim is a symbol the runtime binds and shape inference can carry."""
    weights = {init.name for init in model.graph.initializer}
    unnamed = [(vi, d) for vi in model.graph.input if vi.name not in weights
               for d in vi.type.tensor_type.shape.dim
               if not d.HasField("dim_value") and not d.dim_param]
    if not unnamed:
        return model
    model = onnx.ModelProto.FromString(model.SerializeToString())
    for vi in model.graph.input:
        if vi.name in weights:
            continue
        for i, d in enumerate(vi.type.tensor_type.shape.dim):
            if not d.HasField("dim_value") and not d.dim_param:
                d.dim_param = f"{vi.name}_d{i}"
    return model


def forget_declared_dims(model: onnx.ModelProto) -> onnx.ModelProto:
    """With symbolic graph-input dims, the sizes the file declares for outputs and intermediates
    (value_info) are dropped, ranks kept: shape inference derives them from the inputs' symbols
    alone, so a declared size that disagrees with the graph cannot size a buffer."""
    weights = {init.name for init in model.graph.initializer}
    if all(d.HasField("dim_value") for vi in model.graph.input if vi.name not in weights
           for d in vi.type.tensor_type.shape.dim):
        return model
    model = onnx.ModelProto.FromString(model.SerializeToString())
    del model.graph.value_info[:]
    for vi in model.graph.output:
        if vi.type.HasField("tensor_type"):
            for d in vi.type.tensor_type.shape.dim:
                d.Clear()
    return model


def check_and_infer(model: onnx.ModelProto, source: str) -> onnx.ModelProto:
    """Runs the ONNX checker, then strict shape inference with data propagation."""
    _check(model, source)
    return infer(model, source)


def infer(model: onnx.ModelProto, source: str) -> onnx.ModelProto:
    """Strict ONNX shape inference with data propagation."""
    try:
        return onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True,
                                                 data_prop=True)
    except (onnx.shape_inference.InferenceError, RuntimeError) as e:
        first = " ".join(str(e).split())
        raise InputError(f"{source}: ONNX shape inference failed: {first}") from None


def _check(model: onnx.ModelProto, source: str) -> None:
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        first = " ".join(str(e).split())
        raise InputError(f"{source}: the model fails the ONNX checker: {first}") from None
