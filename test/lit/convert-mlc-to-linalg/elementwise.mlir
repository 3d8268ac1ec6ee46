// RUN: mlc opt %s -p convert-mlc-to-linalg --split-input-file | FileCheck %s

// Broadcasting lives in the indexing maps: the 1-D operand is read with (d0, d1) -> (d1).
// CHECK-DAG: #[[FULL:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[FULL]], #[[ROW]], #[[FULL]]]
// CHECK: arith.addf
// CHECK-NOT: mlc.
func.func @add_broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = "mlc.add"(%a, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @relu
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.generic
// CHECK: arith.maximumf %{{.*}}, %[[ZERO]] : f32
func.func @relu(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "mlc.relu"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// ONNX Cast from float to int truncates toward zero.
// CHECK-LABEL: func.func @cast_f32_to_i32
// CHECK: arith.fptosi %{{.*}} : f32 to i32
func.func @cast_f32_to_i32(%a: tensor<4xf32>) -> tensor<4xi32> {
  %0 = "mlc.cast"(%a) : (tensor<4xf32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// cast_unsigned reads an integer input as unsigned and makes unsigned integers of floats.
// CHECK-LABEL: func.func @cast_unsigned
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.fptoui %{{.*}} : f32 to i8
func.func @cast_unsigned(%a: tensor<4xi8>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi32>, tensor<4xi8>) {
  %0 = "mlc.cast_unsigned"(%a) : (tensor<4xi8>) -> tensor<4xf32>
  %1 = "mlc.cast_unsigned"(%a) : (tensor<4xi8>) -> tensor<4xi32>
  %2 = "mlc.cast_unsigned"(%b) : (tensor<4xf32>) -> tensor<4xi8>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xi32>, tensor<4xi8>
}

// -----

// BitCast keeps the bits.
// CHECK-LABEL: func.func @bitcast
// CHECK: arith.bitcast %{{.*}} : f32 to i32
func.func @bitcast(%a: tensor<4xf32>) -> tensor<4xi32> {
  %0 = "mlc.bitcast"(%a) : (tensor<4xf32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}
