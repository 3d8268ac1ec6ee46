// -p mixes mlc's Python passes and upstream pass names, nested pipelines included; an unknown
// name is the user's error.
// RUN: mlc opt %s -p 'convert-mlc-to-linalg,func.func(linalg-generalize-named-ops),cse' | FileCheck %s
// RUN: not mlc opt %s -p convert-mlc-to-linalg,no-such-pass 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: mlc opt --list-passes | FileCheck %s --check-prefix=LIST
// LIST: convert-mlc-to-linalg {{ +}}mlc ops -> linalg on tensors

// The mlc pass made a linalg.matmul, the upstream pass then generalized it.
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.matmul
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
func.func @matmul(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) -> tensor<2x3xf32> {
  %0 = "mlc.matmul"(%a, %b) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
// UNKNOWN: mlc: error: unknown pass or bad pipeline element 'no-such-pass'
// UNKNOWN: hint: `mlc opt --list-passes` lists mlc's passes
