// Invalid MLIR is the user's input: exit 1 with file:line:col, no traceback, from opt and compile.
// RUN: not mlc opt %s 2>&1 | FileCheck %s --check-prefix=OPT
// RUN: not mlc compile %s --emit=linalg 2>&1 | FileCheck %s --check-prefix=COMPILE

func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {
  %0 = "mlc.relu"(%a, %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
// OPT: mlc: error: {{.*}}bad-mlir.mlir: invalid MLIR:
// OPT-NEXT: {{.*}}bad-mlir.mlir:6:8: error: {{.*}}expects exactly 1 operands, but got 2
// COMPILE: mlc: error: {{.*}}bad-mlir.mlir: cannot parse MLIR:
// COMPILE: expects exactly 1 operands, but got 2
