// --print-ir-after-all shows the IR after each pass on stderr, under mlir-opt's header.
// RUN: mlc opt %s -p convert-mlc-to-linalg,canonicalize --print-ir-after-all 2>&1 >/dev/null | FileCheck %s

// CHECK: // -----// IR Dump After convert-mlc-to-linalg //----- //
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: // -----// IR Dump After canonicalize //----- //
// CHECK: func.func @relu
func.func @relu(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "mlc.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
