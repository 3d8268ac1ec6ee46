// --mlir-timing prints one line per pass (and for parsing and printing) on stderr.
// RUN: mlc opt %s -p convert-mlc-to-linalg,cse --mlir-timing 2>&1 >/dev/null | FileCheck %s

// CHECK: ===- mlc pass timing -===
// CHECK-NEXT: total: {{[0-9.]+}} s
// CHECK-NEXT: {{[0-9.]+}} s {{.*}}% (parse)
// CHECK-NEXT: {{[0-9.]+}} s {{.*}}% convert-mlc-to-linalg
// CHECK-NEXT: {{[0-9.]+}} s {{.*}}% cse
// CHECK-NEXT: {{[0-9.]+}} s {{.*}}% (print)
func.func @relu(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "mlc.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
