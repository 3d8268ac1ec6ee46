/* run_model: load a model compiled by mlc and run it from C, through mlc_runtime.h only.
 *
 *   run_model MODEL.so [COUNT] [SYMBOL=SIZE ...]
 *
 * Prints the model's inputs and outputs as mlc_model() describes them, fills every input with
 * deterministic values, calls mlc_run_sized once and prints the first COUNT (default 8) values
 * of each output. A symbolic dim takes the size given for its symbol (default 1). An output
 * with a data-dependent dim (NonZero, Unique, ...) gets a buffer of its upper bound, and its
 * shape after the run is printed before the values. Element i of
 * every input is
 *     floating point: (i % 17) * 0.0625 - 0.5    (exact in f16, bf16, f32 and f64)
 *     integers:       i % 17 - 8                 (i % 17 for unsigned types)
 *     bool:           i % 2
 * so a test can build the same inputs in numpy and compare. Exits 1 on any error.
 *
 * Build: cc -I compiler/runtime tools/c_example/run_model.c -o run_model -ldl -lm
 * (or the CMakeLists.txt at the repository root).
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlc_runtime.h"

typedef const mlc_model_info *(*describe_fn)(void);
typedef int (*run_fn)(const void *const *, const int64_t *const *, void *const *,
                      int64_t *const *);

/* The sizes given for symbols on the command line; a symbol not given has size 1. */
static char **symbol_args;
static int num_symbol_args;

static int64_t factor_size(const char *symbol, size_t n) {
  if (symbol[0] >= '0' && symbol[0] <= '9')
    return strtoll(symbol, NULL, 10);
  for (int i = 0; i < num_symbol_args; ++i)
    if (strncmp(symbol_args[i], symbol, n) == 0 && symbol_args[i][n] == '=')
      return strtoll(symbol_args[i] + n + 1, NULL, 10);
  return 1;
}

/* An output's symbol may be a product of input symbols and a number ("batch*seq"). */
static int64_t symbol_size(const char *symbol) {
  int64_t size = 1;
  for (;;) {
    const char *star = strchr(symbol, '*');
    size_t n = star ? (size_t)(star - symbol) : strlen(symbol);
    size *= factor_size(symbol, n);
    if (!star)
      return size;
    symbol = star + 1;
  }
}

/* The size a buffer needs along dim d: a data-dependent dim (-2) takes its upper bound. */
static int64_t dim_size(const mlc_tensor_info *t, int32_t d) {
  if (t->shape[d] == -2)
    return t->bounds[d];
  return t->shape[d] < 0 ? symbol_size(t->symbols[d]) : t->shape[d];
}

static const char *dtype_name(int32_t dtype) {
  switch (dtype) {
  case MLC_FLOAT32: return "float32";
  case MLC_UINT8: return "uint8";
  case MLC_INT8: return "int8";
  case MLC_UINT16: return "uint16";
  case MLC_INT16: return "int16";
  case MLC_INT32: return "int32";
  case MLC_INT64: return "int64";
  case MLC_BOOL: return "bool";
  case MLC_FLOAT16: return "float16";
  case MLC_FLOAT64: return "float64";
  case MLC_UINT32: return "uint32";
  case MLC_UINT64: return "uint64";
  case MLC_BFLOAT16: return "bfloat16";
  default: return NULL;
  }
}

static size_t dtype_size(int32_t dtype) {
  switch (dtype) {
  case MLC_UINT8: case MLC_INT8: case MLC_BOOL: return 1;
  case MLC_UINT16: case MLC_INT16: case MLC_FLOAT16: case MLC_BFLOAT16: return 2;
  case MLC_FLOAT32: case MLC_INT32: case MLC_UINT32: return 4;
  case MLC_INT64: case MLC_UINT64: case MLC_FLOAT64: return 8;
  default: return 0;
  }
}

static size_t element_count(const mlc_tensor_info *t) {
  size_t n = 1;
  for (int32_t d = 0; d < t->rank; ++d)
    n *= (size_t)dim_size(t, d);
  return n;
}

static void print_tensor_info(const char *kind, int index, const mlc_tensor_info *t) {
  printf("%s %d: %s %s[", kind, index, t->name, dtype_name(t->dtype));
  for (int32_t d = 0; d < t->rank; ++d) {
    if (t->shape[d] == -2)
      printf("%s<=%" PRId64, d ? "x" : "", t->bounds[d]);
    else if (t->shape[d] < 0)
      printf("%s%s=%" PRId64, d ? "x" : "", t->symbols[d], dim_size(t, d));
    else
      printf("%s%" PRId64, d ? "x" : "", t->shape[d]);
  }
  printf("]\n");
}

/* float <-> the 16-bit formats, for the exact values this program writes and for printing. */
static uint16_t to_bf16(float f) {
  uint32_t bits;
  memcpy(&bits, &f, 4);
  return (uint16_t)(bits >> 16);
}

static float from_bf16(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static uint16_t to_f16(float f) {  /* zero and normal values whose mantissa fits, as here */
  uint32_t bits;
  memcpy(&bits, &f, 4);
  uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
  if ((bits & 0x7fffffffu) == 0)
    return sign;
  int32_t exponent = (int32_t)((bits >> 23) & 0xff) - 127 + 15;
  return (uint16_t)(sign | (uint16_t)(exponent << 10) | (uint16_t)((bits >> 13) & 0x3ff));
}

static float from_f16(uint16_t h) {
  int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float value = exponent == 0    ? ldexpf((float)mantissa, -24)
                : exponent == 31 ? (mantissa ? NAN : INFINITY)
                                 : ldexpf((float)(mantissa | 0x400), exponent - 25);
  return (h & 0x8000) ? -value : value;
}

static void fill(void *buffer, int32_t dtype, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    int64_t k = (int64_t)(i % 17);
    float f = (float)k * 0.0625f - 0.5f;
    switch (dtype) {
    case MLC_FLOAT32: ((float *)buffer)[i] = f; break;
    case MLC_FLOAT64: ((double *)buffer)[i] = (double)f; break;
    case MLC_FLOAT16: ((uint16_t *)buffer)[i] = to_f16(f); break;
    case MLC_BFLOAT16: ((uint16_t *)buffer)[i] = to_bf16(f); break;
    case MLC_INT8: ((int8_t *)buffer)[i] = (int8_t)(k - 8); break;
    case MLC_INT16: ((int16_t *)buffer)[i] = (int16_t)(k - 8); break;
    case MLC_INT32: ((int32_t *)buffer)[i] = (int32_t)(k - 8); break;
    case MLC_INT64: ((int64_t *)buffer)[i] = k - 8; break;
    case MLC_UINT8: ((uint8_t *)buffer)[i] = (uint8_t)k; break;
    case MLC_UINT16: ((uint16_t *)buffer)[i] = (uint16_t)k; break;
    case MLC_UINT32: ((uint32_t *)buffer)[i] = (uint32_t)k; break;
    case MLC_UINT64: ((uint64_t *)buffer)[i] = (uint64_t)k; break;
    case MLC_BOOL: ((uint8_t *)buffer)[i] = (uint8_t)(i % 2); break;
    }
  }
}

static void print_value(const void *buffer, int32_t dtype, size_t i) {
  switch (dtype) {
  case MLC_FLOAT32: printf("%.9g", ((const float *)buffer)[i]); break;
  case MLC_FLOAT64: printf("%.17g", ((const double *)buffer)[i]); break;
  case MLC_FLOAT16: printf("%.9g", from_f16(((const uint16_t *)buffer)[i])); break;
  case MLC_BFLOAT16: printf("%.9g", from_bf16(((const uint16_t *)buffer)[i])); break;
  case MLC_INT8: printf("%d", ((const int8_t *)buffer)[i]); break;
  case MLC_INT16: printf("%d", ((const int16_t *)buffer)[i]); break;
  case MLC_INT32: printf("%" PRId32, ((const int32_t *)buffer)[i]); break;
  case MLC_INT64: printf("%" PRId64, ((const int64_t *)buffer)[i]); break;
  case MLC_UINT8: case MLC_BOOL: printf("%u", ((const uint8_t *)buffer)[i]); break;
  case MLC_UINT16: printf("%u", ((const uint16_t *)buffer)[i]); break;
  case MLC_UINT32: printf("%" PRIu32, ((const uint32_t *)buffer)[i]); break;
  case MLC_UINT64: printf("%" PRIu64, ((const uint64_t *)buffer)[i]); break;
  }
}

/* One buffer per tensor; NULL on an unknown dtype or when out of memory (message printed). */
static void **alloc_buffers(const mlc_tensor_info *tensors, int32_t count, const char *kind) {
  void **buffers = calloc(count > 0 ? (size_t)count : 1, sizeof(void *));
  if (!buffers) {
    fprintf(stderr, "run_model: out of memory\n");
    return NULL;
  }
  for (int32_t i = 0; i < count; ++i) {
    size_t size = dtype_size(tensors[i].dtype);
    if (size == 0) {
      fprintf(stderr, "run_model: %s '%s' has unknown dtype code %d\n", kind, tensors[i].name,
              tensors[i].dtype);
      return NULL;
    }
    /* 64-byte aligned, as the compiled code may use aligned vector loads on its own buffers */
    size_t bytes = element_count(&tensors[i]) * size;
    buffers[i] = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!buffers[i]) {
      fprintf(stderr, "run_model: out of memory for %s '%s' (%zu bytes)\n", kind, tensors[i].name, bytes);
      return NULL;
    }
  }
  return buffers;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.so [COUNT] [SYMBOL=SIZE ...]\n", argv[0]);
    return 1;
  }
  size_t count = argc >= 3 ? (size_t)strtoul(argv[2], NULL, 10) : 8;
  symbol_args = argv + 3;
  num_symbol_args = argc > 3 ? argc - 3 : 0;

  /* dlopen needs a path with a slash to skip the library search path */
  char path[4096];
  snprintf(path, sizeof path, "%s%s", strchr(argv[1], '/') ? "" : "./", argv[1]);
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "run_model: cannot load %s: %s\n", argv[1], dlerror());
    return 1;
  }
  /* POSIX's way to turn dlsym's object pointer into a function pointer */
  describe_fn describe;
  run_fn run;
  *(void **)&describe = dlsym(lib, "mlc_model");
  *(void **)&run = dlsym(lib, "mlc_run_sized");
  if (!describe || !run) {
    fprintf(stderr, "run_model: %s is not an mlc model (no mlc_model/mlc_run_sized symbols)\n",
            argv[1]);
    return 1;
  }
  const mlc_model_info *info = describe();
  if (info->abi_version != MLC_ABI_VERSION) {
    fprintf(stderr, "run_model: %s was built for mlc ABI %d, this program speaks ABI %d\n", argv[1],
            info->abi_version, MLC_ABI_VERSION);
    return 1;
  }

  printf("model %s (target %s)\n", info->model_name, info->target);
  for (int32_t i = 0; i < info->num_inputs; ++i)
    print_tensor_info("input", i, &info->inputs[i]);
  for (int32_t i = 0; i < info->num_outputs; ++i)
    print_tensor_info("output", i, &info->outputs[i]);

  void **inputs = alloc_buffers(info->inputs, info->num_inputs, "input");
  void **outputs = alloc_buffers(info->outputs, info->num_outputs, "output");
  if (!inputs || !outputs)
    return 1;
  for (int32_t i = 0; i < info->num_inputs; ++i)
    fill(inputs[i], info->inputs[i].dtype, element_count(&info->inputs[i]));

  /* each input's sizes, symbols replaced by their sizes */
  int64_t **shapes = calloc(info->num_inputs > 0 ? (size_t)info->num_inputs : 1, sizeof(int64_t *));
  if (!shapes)
    return 1;
  for (int32_t i = 0; i < info->num_inputs; ++i) {
    const mlc_tensor_info *t = &info->inputs[i];
    shapes[i] = calloc(t->rank > 0 ? (size_t)t->rank : 1, sizeof(int64_t));
    if (!shapes[i])
      return 1;
    for (int32_t d = 0; d < t->rank; ++d)
      shapes[i][d] = dim_size(t, d);
  }

  /* each output's shape, as the run reports it */
  int64_t **out_shapes = calloc(info->num_outputs > 0 ? (size_t)info->num_outputs : 1, sizeof(int64_t *));
  if (!out_shapes)
    return 1;
  for (int32_t i = 0; i < info->num_outputs; ++i) {
    out_shapes[i] = calloc(info->outputs[i].rank > 0 ? (size_t)info->outputs[i].rank : 1, sizeof(int64_t));
    if (!out_shapes[i])
      return 1;
  }

  int status = run((const void *const *)inputs, (const int64_t *const *)shapes, (void *const *)outputs,
                   (int64_t *const *)out_shapes);
  if (status == MLC_STATUS_CHECK_FAILED) {
    int (*failed_check)(void);
    *(void **)&failed_check = dlsym(lib, "mlc_failed_check");
    fprintf(stderr, "run_model: the model refused these inputs: %s\n",
            info->checks[failed_check()]);
    return 1;
  }
  if (status != MLC_STATUS_OK) {
    fprintf(stderr, "run_model: mlc_run_sized failed with status %d\n", status);
    return 1;
  }

  for (int32_t i = 0; i < info->num_outputs; ++i) {
    const mlc_tensor_info *t = &info->outputs[i];
    if (!t->bounds)
      continue;
    printf("output %d: %s shape ", i, t->name);
    for (int32_t d = 0; d < t->rank; ++d)
      printf("%s%" PRId64, d ? "x" : "", out_shapes[i][d]);
    printf("\n");
  }
  for (int32_t i = 0; i < info->num_outputs; ++i) {
    const mlc_tensor_info *t = &info->outputs[i];
    size_t n = 1;
    for (int32_t d = 0; d < t->rank; ++d)
      n *= (size_t)out_shapes[i][d];
    printf("%s:", t->name);
    for (size_t j = 0; j < n && j < count; ++j) {
      printf(" ");
      print_value(outputs[i], t->dtype, j);
    }
    printf("%s\n", n > count ? " ..." : "");
  }

  for (int32_t i = 0; i < info->num_inputs; ++i) {
    free(inputs[i]);
    free(shapes[i]);
  }
  free(shapes);
  for (int32_t i = 0; i < info->num_outputs; ++i) {
    free(outputs[i]);
    free(out_shapes[i]);
  }
  free(out_shapes);
  free(inputs);
  free(outputs);
  dlclose(lib);
  return 0;
}
