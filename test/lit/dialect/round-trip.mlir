// One op of each category survives printing and re-parsing, in mlc opt and in upstream
// mlir-opt loading the checked-in IRDL file (so the two definitions agree).
// RUN: mlc opt %s | mlc opt | FileCheck %s
// RUN: mlir-opt --irdl-file=%mlc_irdl %s | FileCheck %s

// CHECK-LABEL: func.func @math
func.func @math(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  // CHECK: "mlc.add"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %0 = "mlc.add"(%a, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: "mlc.tanh"(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = "mlc.tanh"(%0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @nn
func.func @nn(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32> {
  // CHECK: "mlc.conv"(%{{.*}}, %{{.*}}) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
  %0 = "mlc.conv"(%x, %w) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  // CHECK: "mlc.max_pool"(%{{.*}}) {dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
  %1 = "mlc.max_pool"(%0) {dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  return %1 : tensor<1x4x4x4xf32>
}

// CHECK-LABEL: func.func @tensor
func.func @tensor(%a: tensor<2x3xf32>) -> tensor<6x2xf32> {
  // CHECK: "mlc.constant"() {value = dense<1.000000e+00> : tensor<2x3xf32>}
  %c = "mlc.constant"() {value = dense<1.0> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
  // CHECK: "mlc.concat"(%{{.*}}, %{{.*}}) {axis = 0 : i64}
  %0 = "mlc.concat"(%a, %c) {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  // CHECK: "mlc.transpose"(%{{.*}}) {perm = array<i64: 1, 0>}
  %1 = "mlc.transpose"(%0) {perm = array<i64: 1, 0>} : (tensor<4x3xf32>) -> tensor<3x4xf32>
  // CHECK: "mlc.reshape"(%{{.*}}) : (tensor<3x4xf32>) -> tensor<6x2xf32>
  %2 = "mlc.reshape"(%1) : (tensor<3x4xf32>) -> tensor<6x2xf32>
  return %2 : tensor<6x2xf32>
}
