/* mlc_runtime.h: the C ABI of a model compiled by mlc (`mlc compile model.onnx -o model.so`).
 *
 * A compiled model is a self-contained shared object: code, weights and metadata are all
 * inside it; it needs only libc and libm. It exports these functions:
 *
 *   const mlc_model_info *mlc_model(void);
 *       Describes the model: its name and, for each input and output in graph order, the
 *       name, element type (an mlc_dtype, equal to ONNX's TensorProto.DataType) and shape.
 *       A dim is either a size or a symbol (shape[d] == -1, symbols[d] its name): a symbolic
 *       dim (batch, sequence length) takes any size at run time, the same size wherever the
 *       same symbol appears. Every symbol of an output appears in some input; an output's
 *       symbol may also be a product of input symbols and a number, written with '*'
 *       ("batch*seq", "4*seq"; ABI 4), whose size is the product of the factors' sizes.
 *       An output dim may also be data-dependent (shape[d] == -2; ABI 5): its size depends on
 *       the input values (the outputs of NonZero, Compress, Unique, NonMaxSuppression) and is
 *       known only after a run; it is at most bounds[d].
 *
 *   int mlc_run_shaped(const void *const *inputs, const int64_t *const *input_shapes,
 *                      void *const *outputs);
 *       Runs the model. inputs[i] points to the i-th input's elements and input_shapes[i] to
 *       its rank sizes; outputs[i] to a buffer for the i-th output, with the output's shape
 *       after each symbol is replaced by the size the inputs give it. All dense row-major with
 *       the dtypes mlc_model() gives; buffers must not overlap. Each symbol is bound at its
 *       first appearance (inputs in order, dims in order); a size that disagrees with a static
 *       dim or with a symbol's binding, or a symbol (or product of symbols) larger than one of
 *       mlc_model_info.limits allows, returns MLC_STATUS_BAD_SHAPE before anything runs.
 *
 *   int mlc_run(const void *const *inputs, void *const *outputs);
 *       mlc_run_shaped for a model without symbolic dims (the shapes are mlc_model()'s); a
 *       model with symbolic dims returns MLC_STATUS_NEEDS_SHAPES.
 *
 *   int mlc_run_sized(const void *const *inputs, const int64_t *const *input_shapes,
 *                     void *const *outputs, int64_t *const *output_shapes);
 *       mlc_run_shaped that also reports each output's shape (ABI 5): output_shapes[i] points
 *       to rank entries that the call sets to the i-th output's sizes. The way to run a model
 *       with a data-dependent dim: size that output's buffer with bounds[d] for the dim; the
 *       call writes the output dense row-major in its actual shape (output_shapes[i]) at the
 *       start of the buffer. mlc_run and mlc_run_shaped of such a model return
 *       MLC_STATUS_NEEDS_OUTPUT_SHAPES, as does mlc_run_sized with output_shapes NULL.
 *
 * All return MLC_STATUS_OK (0) on success, and MLC_STATUS_CHECK_FAILED when the inputs' values
 * break a rule of the model's ops (ABI 5: a Gather index outside its axis); the outputs then
 * hold no meaningful values, but nothing was read or written outside a buffer.
 *
 *   int mlc_failed_check(void);
 *       After MLC_STATUS_CHECK_FAILED, on the same thread: which check failed, an index into
 *       mlc_model_info.checks, whose entry names the node, its op and the rule (ABI 5).
 *
 *   int mlc_set_num_threads(int n);
 *   int mlc_get_num_threads(void);
 *       The threads a call to mlc_run uses for its large kernels: the calling thread plus a
 *       pool of n - 1 worker threads inside the .so, started on first use (pthreads; no
 *       OpenMP runtime is needed, and the .so's own is hidden, so it never clashes with one
 *       loaded by others). n <= 0 restores the default: the physical cores this process may
 *       run on. The setting and the pool are per .so and apply to every later call; set
 *       returns the resulting count. Results are the same for any n.
 *
 * Thread safety: mlc_run may be called from several threads at once. It reads the weights
 * (read-only after load) and keeps its intermediate buffers in an arena of
 * mlc_model_info.arena_bytes bytes per calling thread: allocated on the thread's first call,
 * reused by its later calls (no allocation, no page faults), freed when the thread exits.
 * Intermediates whose size depends on a symbol are not in the arena: a call mallocs and frees
 * them. The thread pool serves one call's parallel loop at a time: a loop that finds it busy
 * (another thread's call) runs on its calling thread alone.
 *
 * Memory: a call needs the arena of its thread plus the weights (the .so's size, about);
 * the compiler places the intermediate buffers in the arena by liveness, so buffers that are
 * never live at once share bytes.
 *
 * Weights: large weights are stored in the .so's read-only data; weights that are one value
 * repeated (splats) are written into zero-initialized storage once, when the .so is loaded.
 */
#ifndef MLC_RUNTIME_H
#define MLC_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLC_ABI_VERSION 5

enum {
  MLC_STATUS_OK = 0,
  MLC_STATUS_NO_MEMORY = 1,      /* the calling thread's arena could not be allocated */
  MLC_STATUS_BAD_SHAPE = 2,      /* input_shapes disagree with the model or with each other */
  MLC_STATUS_NEEDS_SHAPES = 3,   /* mlc_run on a model with symbolic dims: use mlc_run_shaped */
  MLC_STATUS_NEEDS_OUTPUT_SHAPES = 4, /* a model with data-dependent dims: use mlc_run_sized */
  MLC_STATUS_CHECK_FAILED = 5    /* a run-time check failed: see mlc_failed_check (ABI 5) */
};

typedef enum {
  MLC_FLOAT32 = 1, MLC_UINT8 = 2, MLC_INT8 = 3, MLC_UINT16 = 4, MLC_INT16 = 5,
  MLC_INT32 = 6, MLC_INT64 = 7, MLC_BOOL = 9, MLC_FLOAT16 = 10, MLC_FLOAT64 = 11,
  MLC_UINT32 = 12, MLC_UINT64 = 13, MLC_BFLOAT16 = 16,
  /* One value per byte, its bit pattern in the low bits (as ml_dtypes stores them). */
  MLC_FLOAT8E4M3FN = 17, MLC_FLOAT8E4M3FNUZ = 18, MLC_FLOAT8E5M2 = 19,
  MLC_FLOAT8E5M2FNUZ = 20, MLC_UINT4 = 21, MLC_INT4 = 22, MLC_FLOAT4E2M1 = 23,
  MLC_FLOAT8E8M0 = 24, /* a power of two, 2^(code - 127); 0xFF is NaN (ABI 5) */
  MLC_UINT2 = 25, MLC_INT2 = 26
} mlc_dtype;

typedef struct {
  const char *name;
  int32_t dtype;          /* an mlc_dtype */
  int32_t rank;
  const int64_t *shape;   /* rank entries; -1 for a symbolic dim (ABI 3), -2 for a
                             data-dependent one (ABI 5) */
  const char *const *symbols;  /* rank entries, the symbol of each -1 dim and NULL for the
                                  others; NULL itself when every dim is static (ABI 3) */
  const int64_t *bounds;  /* rank entries, shape with each -2 replaced by the dim's upper
                             bound; NULL itself when no dim is data-dependent (ABI 5) */
} mlc_tensor_info;

/* A symbolic size the model cannot exceed (ABI 5): `symbol` is an input symbol or a product
 * of them ("batch*seq"); the graph reads a static table that far (`why` says where). */
typedef struct {
  const char *symbol;
  int64_t most;
  const char *why;
} mlc_symbol_limit;

typedef struct {
  int32_t abi_version;    /* MLC_ABI_VERSION of the compiler that built the .so */
  const char *model_name;
  int32_t num_inputs;
  int32_t num_outputs;
  const mlc_tensor_info *inputs;
  const mlc_tensor_info *outputs;
  const char *target;     /* the --target it was compiled for */
  int64_t arena_bytes;    /* bytes of intermediate buffers each calling thread holds (ABI 2) */
  int32_t num_limits;     /* ABI 5 */
  const mlc_symbol_limit *limits;
  int32_t num_checks;     /* ABI 5: the run-time checks' messages */
  const char *const *checks;
} mlc_model_info;

const mlc_model_info *mlc_model(void);
int mlc_run(const void *const *inputs, void *const *outputs);
int mlc_run_shaped(const void *const *inputs, const int64_t *const *input_shapes,
                   void *const *outputs);
int mlc_failed_check(void);
int mlc_run_sized(const void *const *inputs, const int64_t *const *input_shapes,
                  void *const *outputs, int64_t *const *output_shapes);
int mlc_set_num_threads(int n);
int mlc_get_num_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* MLC_RUNTIME_H */
