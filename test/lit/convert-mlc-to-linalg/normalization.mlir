// RUN: mlc opt %s -p convert-mlc-to-linalg --split-input-file | FileCheck %s

// Softmax is stable: max, exp(x - max), sum, divide.
// CHECK-LABEL: func.func @softmax
// CHECK: arith.maximumf
// CHECK: arith.subf
// CHECK-NEXT: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = "mlc.softmax"(%x) {axis = 1 : i64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// One fused elementwise op: (x - mean) * rsqrt(var + eps) * scale + bias.
// CHECK-LABEL: func.func @batch_norm
// CHECK: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK: linalg.generic
// CHECK: arith.addf %{{.*}}, %[[EPS]]
// CHECK-NEXT: math.rsqrt
// CHECK-NOT: linalg.generic
func.func @batch_norm(%x: tensor<1x2x3x3xf32>, %s: tensor<2xf32>, %b: tensor<2xf32>, %m: tensor<2xf32>, %v: tensor<2xf32>) -> tensor<1x2x3x3xf32> {
  %0 = "mlc.batch_norm"(%x, %s, %b, %m, %v) {epsilon = 1.0e-05 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// Layer norm over the last dim: a sum, the centered values, their sum of squares, then
// c * rsqrt(var + eps) and the affine step (the unused mean and 1/std results fold away).
// CHECK-LABEL: func.func @layer_norm
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK: arith.subf
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK: math.rsqrt
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %arg1, %arg2
// CHECK: arith.mulf
// CHECK-NEXT: arith.addf
func.func @layer_norm(%x: tensor<4x8xf32>, %s: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %y, %mean, %inv_std = "mlc.layer_norm"(%x, %s, %b) {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x1xf32>, tensor<4x1xf32>)
  return %y : tensor<4x8xf32>
}

// -----

// Group norm standardizes rows of an [N, G, C/G * spatial] view, then scales per channel.
// CHECK-LABEL: func.func @group_norm
// CHECK: tensor.expand_shape {{.*}} into tensor<2x3x8xf32>
// CHECK: math.rsqrt
// CHECK: tensor.expand_shape {{.*}} into tensor<2x6x2x2xf32>
func.func @group_norm(%x: tensor<2x6x2x2xf32>, %s: tensor<6xf32>, %b: tensor<6xf32>) -> tensor<2x6x2x2xf32> {
  %0 = "mlc.group_norm"(%x, %s, %b) {num_groups = 3 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x6x2x2xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<2x6x2x2xf32>
  return %0 : tensor<2x6x2x2xf32>
}
