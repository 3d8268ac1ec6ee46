"""The last stage: object file + generated C shim + weight data -> one shared object.

The shim (C, generated per model) implements the ABI of mlc_runtime.h: it holds the metadata
tables, binds and checks the symbolic dims' sizes (`mlc_run_shaped`), wraps the caller's buffers
into memref descriptors for `_mlir_ciface_main` (sizes and strides from the bound sizes), passes
the calling thread's arena for the intermediate buffers (allocated on its first call), and
defines the splat weights (filled once at load). An output with a data-dependent dim is written
in its bound shape; @main reports the actual sizes in one more buffer, and the shim moves the
output to the dense prefix of its actual shape and reports the shapes (`mlc_run_sized`).
Resource weights are written to one binary
file and pulled into .rodata by an assembler `.incbin`, so they never become text.
"""

import re
import struct
from pathlib import Path

import numpy as np
from mlir import ir

from mlc.interface import Interface, bound_of
from mlc.runtime.header import include_dir, threads_source
from mlc.toolchain import c_compiler, run_tool
from mlc.weights import WeightStore
from mlc.errors import CompilerBug
from mlc.passes.memory_plan import ARENA_ATTR

_ALIGN = 64


def _symbols(interface: Interface) -> list[str]:
    """The symbols of the inputs' dynamic dims, in order of first appearance."""
    return list(dict.fromkeys(d for t in interface.inputs for d in t.shape if isinstance(d, str)))


def _size_exprs(shape, symbols: list[str]) -> list[str]:
    """C expressions of a tensor's sizes: a number, or `sym[k]` bound by mlc_run_shaped (a
    product of them and a number for an output dim such as 'batch*seq')."""
    def expr(d):
        if isinstance(d, int):
            return str(d)
        if bound_of(d) is not None:  # a data-dependent dim: the buffer holds its bound
            return str(bound_of(d))
        return "*".join(f if f.isdigit() else f"sym[{symbols.index(f)}]" for f in d.split("*"))
    return [expr(d) for d in shape]


def _stride_exprs(sizes: list[str]) -> list[str]:
    """Row-major strides: the static sizes' product times the symbols after each dim."""
    strides, number, symbolic = [], 1, []
    for size in reversed(sizes):
        strides.append("*".join([str(number)] * (number != 1 or not symbolic) + symbolic))
        if size.isdigit():
            number *= int(size)
        else:
            symbolic = [size] + symbolic
    return strides[::-1]


def _descriptor(var: str, ptr: str, sizes: list[str]) -> str:
    if not sizes:
        return f"  mlc_memref0 {var} = {{{ptr}, {ptr}, 0}};"
    return (f"  mlc_memref{len(sizes)} {var} = {{{ptr}, {ptr}, 0, {{{', '.join(sizes)}}}, "
            f"{{{', '.join(_stride_exprs(sizes))}}}}};")


def _c_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tensor_table(name: str, specs) -> list[str]:
    def code(d, data_dependent: str) -> str:
        return str(d) if isinstance(d, int) else data_dependent if bound_of(d) is not None else "-1"

    lines = []
    for i, t in enumerate(specs):
        dims = ", ".join(code(d, "-2") for d in t.shape) or "0"
        lines.append(f"static const int64_t {name}_shape{i}[] = {{{dims}}};")
        if t.symbolic:
            names = ", ".join(_c_string(d) if code(d, "") == "-1" else "NULL" for d in t.shape)
            lines.append(f"static const char *const {name}_symbols{i}[] = {{{names}}};")
        if t.data_dependent:
            bounds = ", ".join(code(d, str(bound_of(d))) for d in t.shape)
            lines.append(f"static const int64_t {name}_bounds{i}[] = {{{bounds}}};")
    rows = ", ".join(f"{{{_c_string(t.name)}, {t.dtype.onnx}, {len(t.shape)}, {name}_shape{i}, "
                     f"{f'{name}_symbols{i}' if t.symbolic else 'NULL'}, "
                     f"{f'{name}_bounds{i}' if t.data_dependent else 'NULL'}}}"
                     for i, t in enumerate(specs))
    lines.append(f"static const mlc_tensor_info {name}[] = {{{rows or '{0}'}}};")
    return lines


def _metadata_tables(interface: Interface) -> list[str]:
    """The symbol limits and the run-time checks' messages (ABI 5)."""
    rows = ", ".join(f"{{{_c_string(lim.symbol)}, {lim.most}, {_c_string(lim.why)}}}"
                     for lim in interface.limits)
    messages = ", ".join(_c_string(m) for m in interface.checks)
    return [f"static const mlc_symbol_limit mlc_limits[] = {{{rows or '{0}'}}};",
            f"static const char *const mlc_checks[] = {{{messages or 'NULL'}}};",
            "static __thread int mlc_failed;",
            "MLC_EXPORT int mlc_failed_check(void) { return mlc_failed; }", ""]


def _binding(interface: Interface, symbols: list[str]) -> list[str]:
    """mlc_run_shaped's prologue: bind each symbol at its first dim, check every other dim and
    the symbols' limits."""
    out = [f"  int64_t sym[{max(1, len(symbols))}];"]
    bound = set()
    for i, t in enumerate(interface.inputs):
        for d, size in enumerate(t.shape):
            given = f"input_shapes[{i}][{d}]"
            if isinstance(size, int):
                out.append(f"  if ({given} != {size}) return MLC_STATUS_BAD_SHAPE;")
            elif size in bound:
                out.append(f"  if ({given} != sym[{symbols.index(size)}]) return MLC_STATUS_BAD_SHAPE;")
            else:
                bound.add(size)
                out.append(f"  if ({given} < 0) return MLC_STATUS_BAD_SHAPE;")
                out.append(f"  sym[{symbols.index(size)}] = {given};")
    for limit in interface.limits:
        (size,) = _size_exprs([limit.symbol], symbols)
        out.append(f"  if ({size} > {limit.most}) return MLC_STATUS_BAD_SHAPE;")
    return out


def _splat_bits(attr: ir.DenseElementsAttr) -> tuple[int, int]:
    """(element size in bytes, bit pattern) of a splat attribute's value."""
    elem = ir.ShapedType(attr.type).element_type
    value = attr.get_splat_value()
    if isinstance(elem, ir.IntegerType):
        width = max(8, ir.IntegerType(elem).width)
        return width // 8, ir.IntegerAttr(value).value & ((1 << width) - 1)
    f = ir.FloatAttr(value).value
    kind = str(elem)
    if kind == "f32":
        return 4, struct.unpack("<I", struct.pack("<f", f))[0]
    if kind == "f64":
        return 8, struct.unpack("<Q", struct.pack("<d", f))[0]
    if kind == "f16":
        return 2, int(np.array(f, np.float16).view(np.uint16))
    return 2, struct.unpack("<I", struct.pack("<f", f))[0] >> 16  # bf16 (truncation)


def _arena_source(arena_bytes: int) -> list[str]:
    """A per-thread arena, allocated on the thread's first call and freed at its exit.

    The `__thread` pointer is the fast path; the pthread key only frees the arena when the thread
    ends. Its destructor is libc's free, so a thread outliving a dlclose'd model is still safe;
    unloading the .so deletes the key (and frees the unloading thread's arena). When no key can
    be made (PTHREAD_KEYS_MAX reached), arenas are simply not freed at thread exit.
    """
    size = max(_ALIGN, -(-arena_bytes // _ALIGN) * _ALIGN)
    return ["static __thread void *mlc_arena;", "static pthread_key_t mlc_arena_key;",
            "static int mlc_arena_key_made;",
            "static pthread_once_t mlc_arena_once = PTHREAD_ONCE_INIT;",
            "static void mlc_arena_key_init(void) {",
            "  mlc_arena_key_made = pthread_key_create(&mlc_arena_key, free) == 0;",
            "}",
            "static void *mlc_thread_arena(void) {",
            "  if (!mlc_arena) {",
            f"    mlc_arena = aligned_alloc({_ALIGN}, {size});",
            "    if (!mlc_arena) return 0;",
            "    pthread_once(&mlc_arena_once, mlc_arena_key_init);",
            "    if (mlc_arena_key_made) pthread_setspecific(mlc_arena_key, mlc_arena);",
            "  }",
            "  return mlc_arena;",
            "}",
            # Unloading gives the key back: a process loading many models (a test harness) would
            # otherwise run out of keys (PTHREAD_KEYS_MAX), leaving only the arenas' frees.
            "__attribute__((destructor)) static void mlc_arena_key_release(void) {",
            "  if (mlc_arena_key_made) { pthread_key_delete(mlc_arena_key); free(mlc_arena); }",
            "}", ""]


def shim_source(interface: Interface, splats: dict[str, ir.Attribute], target_name: str,
                arena_bytes: int | None = None) -> str:
    """The C shim. `arena_bytes` is None when @main takes no arena (no mlc-plan-memory)."""
    specs = [*interface.inputs, *interface.outputs]
    ranks = sorted({len(t.shape) for t in specs} | ({1} if arena_bytes is not None else set())
                   | ({0} if interface.checks else set()))
    sized = [t for t in interface.outputs if t.data_dependent]
    if sized:
        ranks = sorted(set(ranks) | {1})
    out = [f"/* Generated by mlc for model {interface.model_name!r}; the ABI is in mlc_runtime.h. */",
           "#include <pthread.h>", "#include <stddef.h>", "#include <stdint.h>", "#include <stdlib.h>",
           "#include <string.h>",
           '#include "mlc_runtime.h"',
           '#define MLC_EXPORT __attribute__((visibility("default")))', ""]
    for r in ranks:
        fields = "void *allocated, *aligned; int64_t offset;"
        if r:
            fields += f" int64_t sizes[{r}]; int64_t strides[{r}];"
        out.append(f"typedef struct {{ {fields} }} mlc_memref{r};")
    params = ", ".join([f"mlc_memref{len(t.shape)} *" for t in specs]
                       + (["mlc_memref1 *"] if sized else [])
                       + (["mlc_memref0 *"] if interface.checks else [])
                       + (["mlc_memref1 *"] if arena_bytes is not None else []))
    out += [f"extern void _mlir_ciface_main({params or 'void'});", ""]
    out += _tensor_table("mlc_inputs", interface.inputs)
    out += _tensor_table("mlc_outputs", interface.outputs)
    out += _metadata_tables(interface)
    out += [f"static const mlc_model_info mlc_info = {{MLC_ABI_VERSION, "
            f"{_c_string(interface.model_name)}, {len(interface.inputs)}, "
            f"{len(interface.outputs)}, mlc_inputs, mlc_outputs, {_c_string(target_name)}, "
            f"{arena_bytes or 0}, {len(interface.limits)}, mlc_limits, "
            f"{len(interface.checks)}, mlc_checks}};",
            "MLC_EXPORT const mlc_model_info *mlc_model(void) { return &mlc_info; }", ""]
    if arena_bytes is not None:
        out += _arena_source(arena_bytes)
    if sized:
        out += _COMPACT
    symbols = _symbols(interface)
    # One body for every entry point; `sym` holds the symbols' sizes (unused when static).
    out.append("static int mlc_call(const void *const *inputs, void *const *outputs, "
               "const int64_t *sym, int64_t *const *output_shapes) {")
    out.append("  (void)sym;")
    args = []
    for i, t in enumerate(interface.inputs):
        out.append(_descriptor(f"in{i}", f"(void *)inputs[{i}]", _size_exprs(t.shape, symbols)))
        args.append(f"&in{i}")
    for i, t in enumerate(interface.outputs):
        out.append(_descriptor(f"out{i}", f"outputs[{i}]", _size_exprs(t.shape, symbols)))
        args.append(f"&out{i}")
    if sized:
        out += [f"  int64_t sized[{len(sized)}];",
                f"  mlc_memref1 sizes = {{sized, sized, 0, {{{len(sized)}}}, {{1}}}};"]
        args.append("&sizes")
    if interface.checks:
        out += ["  int32_t status = 0;", "  mlc_memref0 status_ref = {&status, &status, 0};"]
        args.append("&status_ref")
    if arena_bytes is not None:
        out += ["  void *arena_ptr = mlc_thread_arena();", "  if (!arena_ptr) return MLC_STATUS_NO_MEMORY;",
                f"  mlc_memref1 arena = {{arena_ptr, arena_ptr, 0, {{{arena_bytes}}}, {{1}}}};"]
        args.append("&arena")
    out.append(f"  _mlir_ciface_main({', '.join(args)});")
    if interface.checks:
        out += ["  if (status > 0) {", "    mlc_failed = status - 1;",
                "    return MLC_STATUS_CHECK_FAILED;", "  }"]
    out += _output_shapes(interface, symbols)
    out += ["  return MLC_STATUS_OK;", "}", ""]
    out.append("MLC_EXPORT int mlc_run(const void *const *inputs, void *const *outputs) {")
    if symbols or sized:
        status = "MLC_STATUS_NEEDS_SHAPES" if symbols else "MLC_STATUS_NEEDS_OUTPUT_SHAPES"
        out += ["  (void)inputs; (void)outputs;", f"  return {status};", "}", ""]
    else:
        out += ["  return mlc_call(inputs, outputs, 0, 0);", "}", ""]
    out.append("MLC_EXPORT int mlc_run_sized(const void *const *inputs, "
               "const int64_t *const *input_shapes, void *const *outputs, "
               "int64_t *const *output_shapes) {")
    if sized:
        out.append("  if (!output_shapes) return MLC_STATUS_NEEDS_OUTPUT_SHAPES;")
    out += _binding(interface, symbols)
    out += ["  return mlc_call(inputs, outputs, sym, output_shapes);", "}", ""]
    out += ["MLC_EXPORT int mlc_run_shaped(const void *const *inputs, "
            "const int64_t *const *input_shapes, void *const *outputs) {",
            "  return mlc_run_sized(inputs, input_shapes, outputs, 0);", "}", ""]
    fills = []
    for symbol, attr in splats.items():
        size, bits = _splat_bits(ir.DenseElementsAttr(attr))
        count = int(np.prod(ir.ShapedType(attr.type).shape))
        ctype = f"uint{size * 8}_t"
        out.append(f'__attribute__((visibility("hidden"), aligned({_ALIGN}))) '
                   f"{ctype} {symbol}[{count}];")
        fills.append(f"  for (int64_t i = 0; i < {count}; ++i) {symbol}[i] = ({ctype}){bits}ull;")
    if fills:
        out += ["", "__attribute__((constructor)) static void mlc_fill_splats(void) {", *fills, "}"]
    out += _BF16_ROUNDING
    return "\n".join(out) + "\n"


def _output_shapes(interface: Interface, symbols: list[str]) -> list[str]:
    """After the run: each data-dependent output moved to its actual shape (`sized[k]` is the
    k-th data-dependent dim's size), then every output's shape written to output_shapes."""
    out, k = [], 0
    actual = []
    for t in interface.outputs:
        sizes = _size_exprs(t.shape, symbols)
        if t.data_dependent:
            sizes = [f"sized[{k}]" if bound_of(d) is not None else s for d, s in zip(t.shape, sizes)]
            k += 1
        actual.append(sizes)
    for i, (t, sizes) in enumerate(zip(interface.outputs, actual)):
        if t.data_dependent:
            bound = ", ".join(_size_exprs(t.shape, symbols))
            out += [f"  {{ const int64_t bound[] = {{{bound}}}, actual[] = {{{', '.join(sizes)}}};",
                    f"    mlc_compact(outputs[{i}], {t.dtype.numpy.itemsize}, {len(sizes)}, bound, "
                    "actual); }"]
    out.append("  if (!output_shapes) return MLC_STATUS_OK;")
    for i, sizes in enumerate(actual):
        out += [f"  output_shapes[{i}][{d}] = {size};" for d, size in enumerate(sizes)]
    return out


# Moves an output written in its bound shape to the dense prefix of its actual shape. Each
# element's offset only decreases and rows go in order, so no row overwrites one not yet moved.
_COMPACT = [
    "static void mlc_compact(void *data, size_t elem, int32_t rank, const int64_t *bound,",
    "                        const int64_t *actual) {",
    "  int64_t rows = 1;",
    "  for (int32_t d = 0; d + 1 < rank; ++d) rows *= actual[d];",
    "  size_t row = rank ? (size_t)actual[rank - 1] * elem : 0;",
    "  for (int64_t r = 0; row && r < rows; ++r) {",
    "    int64_t rest = r, from = 0, stride = bound[rank - 1];",
    "    for (int32_t d = rank - 2; d >= 0; --d) {",
    "      from += rest % actual[d] * stride;",
    "      rest /= actual[d];",
    "      stride *= bound[d];",
    "    }",
    "    memmove((char *)data + (size_t)r * row, (char *)data + (size_t)from * elem, row);",
    "  }",
    "}", ""]


# LLVM rounds f32 to bf16 (x86 has no such instruction before AVX512-BF16) by calling
# __truncsfbf2, which libgcc only has from GCC 13 and the C compiler may not link: the .so
# defines its own, hidden. Round to nearest even; a NaN stays a (quiet) NaN. Written in
# assembly because C compilers before GCC 13 have no bf16 type to return in xmm0.
_BF16_ROUNDING = [
    "",
    "__asm__(",
    '  ".pushsection .text\\n.globl __truncsfbf2\\n.hidden __truncsfbf2\\n.type __truncsfbf2, @function\\n"',
    '  "__truncsfbf2:\\n"',
    '  "  movd %xmm0, %eax\\n  movl %eax, %ecx\\n  andl $0x7fffffff, %ecx\\n"',
    '  "  cmpl $0x7f800000, %ecx\\n  ja 1f\\n"',
    '  "  movl %eax, %ecx\\n  shrl $16, %ecx\\n  andl $1, %ecx\\n  addl $0x7fff, %ecx\\n"',
    '  "  addl %ecx, %eax\\n  shrl $16, %eax\\n  movd %eax, %xmm0\\n  ret\\n"',
    '  "1:\\n  shrl $16, %eax\\n  orl $0x40, %eax\\n  movd %eax, %xmm0\\n  ret\\n"',
    '  ".size __truncsfbf2, .-__truncsfbf2\\n.popsection\\n");',
]


def _resource_name(attr: ir.Attribute) -> str | None:
    match = re.match(r'dense_resource<"?([^>"]+)"?>', str(attr))
    return match.group(1) if match else None


def weights_assembly(blobs: dict[str, np.ndarray], bin_path: Path) -> str:
    """Writes the blobs into `bin_path` and returns assembly defining one symbol each."""
    lines = ['.section .rodata.mlc_weights,"a",@progbits']
    offset = 0
    with open(bin_path, "wb") as f:
        for symbol, data in blobs.items():
            raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)  # any dtype, bf16 too
            padding = (-offset) % _ALIGN
            f.write(b"\0" * padding)
            offset += padding
            f.write(raw)
            lines += [f".p2align 6", f".globl {symbol}", f".hidden {symbol}",
                      f".type {symbol}, @object", f"{symbol}:",
                      f'.incbin "{bin_path}", {offset}, {len(raw)}', f".size {symbol}, {len(raw)}"]
            offset += len(raw)
    lines.append('.section .note.GNU-stack,"",@progbits')
    return "\n".join(lines) + "\n"


def split_weights(module: ir.Module, store: WeightStore) -> tuple[dict, dict]:
    """The module's externalized weights as (splats: symbol -> attr, blobs: symbol -> array)."""
    attrs = module.operation.attributes
    if "mlc.weights" not in attrs:
        return {}, {}
    splats, blobs = {}, {}
    for entry in ir.DictAttr(attrs["mlc.weights"]):
        name, attr = entry.name, entry.attr
        resource = _resource_name(attr)
        if resource is not None:
            if resource not in store.blobs:
                raise CompilerBug(f"weight '{name}' refers to resource '{resource}', whose bytes "
                                  "are not known to this compilation")
            blobs[name] = store.blobs[resource]
        elif ir.DenseElementsAttr(attr).is_splat:
            splats[name] = attr
        else:
            # A non-splat dense constant produced by folding: its bytes come from the attribute.
            blobs[name] = np.array(ir.DenseElementsAttr(attr))
    return splats, blobs


def _arena_bytes(module: ir.Module) -> int | None:
    attrs = module.operation.attributes
    return ir.IntegerAttr(attrs[ARENA_ATTR]).value if ARENA_ATTR in attrs else None


def link_shared_object(objects: list[Path], module: ir.Module, store: WeightStore, interface: Interface,
                       target_name: str, work: Path, output: Path) -> None:
    splats, blobs = split_weights(module, store)
    shim = work / "mlc_shim.c"
    shim.write_text(shim_source(interface, splats, target_name, _arena_bytes(module)))
    asm = work / "mlc_weights.S"
    asm.write_text(weights_assembly(blobs, work / "mlc_weights.bin"))
    exports = work / "mlc_exports.map"
    # Only the ABI leaves the .so: not the generated code's `main` nor the weight symbols.
    exports.write_text("{ global: mlc_model; mlc_run; mlc_run_shaped; mlc_run_sized; "
                       "mlc_set_num_threads; mlc_get_num_threads; mlc_failed_check; local: *; };\n")
    run_tool([c_compiler(), "-shared", "-fPIC", "-O2", "-pthread", f"-I{include_dir()}",
              f"-Wl,--version-script={exports}", *map(str, objects), str(shim), str(threads_source()),
              str(asm), "-o", str(output), "-lm"])
