// RUN: mlc opt %s -p mlc-cse | FileCheck %s

// Upstream `cse` leaves IRDL ops alone; mlc-cse merges identical mlc ops (same operands and
// attributes) and drops the unused ones; non-mlc ops are never touched.
// CHECK-LABEL: func.func @dup
// CHECK: %[[R:.*]] = "mlc.relu"(%arg0)
// CHECK-NOT: mlc.relu
// CHECK-NOT: mlc.sigmoid
// CHECK: "mlc.add"(%[[R]], %[[R]])
// CHECK: "mlc.leaky_relu"(%arg0) {alpha = 1.000000e-01
// CHECK: "mlc.leaky_relu"(%arg0) {alpha = 2.000000e-01
func.func @dup(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = "mlc.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = "mlc.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %dead = "mlc.sigmoid"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %2 = "mlc.add"(%0, %1) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %3 = "mlc.leaky_relu"(%x) {alpha = 0.1 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  %4 = "mlc.leaky_relu"(%x) {alpha = 0.2 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  return %2, %3, %4 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
