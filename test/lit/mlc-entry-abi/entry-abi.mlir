// RUN: mlc opt %s -p mlc-entry-abi | FileCheck %s

// Inputs and outputs become caller-provided memrefs; names stay attached; C interface exported.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[X:.*]]: memref<2x3xf32> {mlc.name = "x"}, %[[Y:.*]]: memref<2x3xf32> {mlc.name = "y"})
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[X]] restrict
// CHECK: %[[R:.*]] = "mlc.relu"(%[[T]])
// CHECK: bufferization.materialize_in_destination %[[R]] in restrict writable %[[Y]]
// CHECK-NEXT: return{{$}}
func.func @main(%x: tensor<2x3xf32> {mlc.name = "x"}) -> (tensor<2x3xf32> {mlc.name = "y"}) {
  %0 = "mlc.relu"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// Only @main changes.
// CHECK-LABEL: func.func @helper(%arg0: tensor<2xf32>) -> tensor<2xf32>
func.func @helper(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
