// RUN: mlc opt %s -p convert-mlc-to-linalg --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @reshape
// CHECK: tensor.collapse_shape %arg0 {{.*}} into tensor<24xf32>
// CHECK: tensor.expand_shape {{.*}} into tensor<2x12xf32>
func.func @reshape(%x: tensor<2x3x4xf32>) -> tensor<2x12xf32> {
  %0 = "mlc.reshape"(%x) : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  return %0 : tensor<2x12xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK: linalg.transpose ins(%arg0 : tensor<2x3xf32>) outs(%{{.*}} : tensor<3x2xf32>) permutation = [1, 0]
func.func @transpose(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = "mlc.transpose"(%x) {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// Each input is inserted at its offset along the axis.
// CHECK-LABEL: func.func @concat
// CHECK: %[[FIRST:.*]] = tensor.insert_slice %arg0 into %{{.*}}[0, 0] [2, 3] [1, 1]
// CHECK: tensor.insert_slice %arg1 into %[[FIRST]][0, 3] [2, 1] [1, 1]
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>) -> tensor<2x4xf32> {
  %0 = "mlc.concat"(%a, %b) {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Weights keep their attribute: dense here, dense_resource for imported models.
// CHECK-LABEL: func.func @constant
// CHECK: arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
func.func @constant() -> tensor<2xf32> {
  %0 = "mlc.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Forward slices are views; a backward one reads through the affine map offset - step * d.
// CHECK-DAG: #[[BACK:.*]] = affine_map<(d0, d1) -> (d0 + 1, d1 * -2 + 4)>
// CHECK-LABEL: func.func @slices
// CHECK: tensor.extract_slice %arg0[1, 0] [2, 3] [1, 2]
// CHECK: linalg.generic {indexing_maps = [#[[BACK]],
func.func @slices(%x: tensor<4x5xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %0 = "mlc.slice"(%x) {offsets = array<i64: 1, 0>, strides = array<i64: 1, 2>} : (tensor<4x5xf32>) -> tensor<2x3xf32>
  %1 = "mlc.slice"(%x) {offsets = array<i64: 1, 4>, strides = array<i64: 1, -2>} : (tensor<4x5xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Constant padding is the input inserted into a filled tensor; the other modes read the input
// at a computed index.
// CHECK-LABEL: func.func @pads
// CHECK: %[[BORDER:.*]] = linalg.fill {{.*}} -> tensor<2x6xf32>
// CHECK: tensor.insert_slice %arg0 into %[[BORDER]][0, 1] [2, 3] [1, 1]
// CHECK: linalg.generic
// CHECK: tensor.extract %arg0
func.func @pads(%x: tensor<2x3xf32>) -> (tensor<2x6xf32>, tensor<2x6xf32>) {
  %0 = "mlc.pad"(%x) {pads = array<i64: 0, 1, 0, 2>, mode = "constant"} : (tensor<2x3xf32>) -> tensor<2x6xf32>
  %1 = "mlc.pad"(%x) {pads = array<i64: 0, 1, 0, 2>, mode = "reflect"} : (tensor<2x3xf32>) -> tensor<2x6xf32>
  return %0, %1 : tensor<2x6xf32>, tensor<2x6xf32>
}

// -----

// Nearest resizing: a table of source indices (computed at run time from the scales), then a
// gather along the axis; the batch and channel axes are not resized.
// CHECK-LABEL: func.func @resize_nearest
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x1xi64>)
// CHECK: math.ceil %{{.*}} : f64
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x1xi64>) outs(%{{.*}} : tensor<1x1x4x2xf32>)
// CHECK: tensor.extract %arg0
func.func @resize_nearest(%x: tensor<1x1x2x2xf32>, %s: tensor<4xf32>) -> tensor<1x1x4x2xf32> {
  %0 = "mlc.resize"(%x, %s) {axes = array<i64: 0, 1, 2, 3>, resized = array<i64: 2>, from_sizes = 0 : i64,
       policy = "stretch", mode = "nearest", coordinate_mode = "asymmetric", nearest_mode = "floor",
       cubic_a = -7.500000e-01 : f32, exclude_outside = 0 : i64, extrapolation = 0.000000e+00 : f32,
       antialias = 0 : i64} : (tensor<1x1x2x2xf32>, tensor<4xf32>) -> tensor<1x1x4x2xf32>
  return %0 : tensor<1x1x4x2xf32>
}

// -----

// Data-dependent sizes: sequential loops that write the bound-sized result and count.
// CHECK-LABEL: func.func @nonzero
// CHECK: scf.for %[[I:.*]] = {{.*}} iter_args(%{{.*}} = %{{.*}}, %[[K:.*]] = %{{.*}}) -> (tensor<2x6xi64>, index)
// CHECK: scf.if
// CHECK: tensor.insert {{.*}}[%{{.*}}, %[[K]]] : tensor<2x6xi64>
// CHECK: tensor.from_elements {{.*}} : tensor<1xi64>
func.func @nonzero(%x: tensor<6xf32>) -> (tensor<2x6xi64>, tensor<1xi64>) {
  %0:2 = "mlc.nonzero"(%x) {shape = array<i64: 2, 3>} : (tensor<6xf32>) -> (tensor<2x6xi64>, tensor<1xi64>)
  return %0#0, %0#1 : tensor<2x6xi64>, tensor<1xi64>
}
