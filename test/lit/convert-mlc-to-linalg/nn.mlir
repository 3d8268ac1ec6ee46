// RUN: mlc opt %s -p convert-mlc-to-linalg --split-input-file | FileCheck %s

// Explicit pads become a filled border with the input inserted; the convolution itself is
// unpadded.
// CHECK-LABEL: func.func @conv_padded
// CHECK: %[[BORDER:.*]] = linalg.fill {{.*}} -> tensor<1x3x7x7xf32>
// CHECK: %[[PADDED:.*]] = tensor.insert_slice %arg0 into %[[BORDER]][0, 0, 0, 0] [1, 3, 6, 6] [1, 1, 1, 1]
// CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PADDED]], %arg1
func.func @conv_padded(%x: tensor<1x3x6x6xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32> {
  %0 = "mlc.conv"(%x, %w) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

// The accumulator starts at -inf, so padding never wins.
// CHECK-LABEL: func.func @max_pool
// CHECK: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[NEG_INF]] : f32)
// CHECK: linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
func.func @max_pool(%x: tensor<1x2x7x7xf32>) -> tensor<1x2x3x3xf32> {
  %0 = "mlc.max_pool"(%x) {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x7x7xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// A sum over the spatial dims, scaled by 1/16.
// CHECK-LABEL: func.func @global_avg_pool
// CHECK: arith.constant 6.250000e-02 : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]
func.func @global_avg_pool(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32> {
  %0 = "mlc.global_avg_pool"(%x) : (tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32>
  return %0 : tensor<1x2x1x1xf32>
}

// -----

// 1-D and 3-D convolutions use linalg's named ops for their layouts.
// CHECK-LABEL: func.func @conv_1d
// CHECK: linalg.conv_1d_ncw_fcw
func.func @conv_1d(%x: tensor<1x3x9xf32>, %w: tensor<4x3x3xf32>) -> tensor<1x4x7xf32> {
  %0 = "mlc.conv"(%x, %w) {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x3x9xf32>, tensor<4x3x3xf32>) -> tensor<1x4x7xf32>
  return %0 : tensor<1x4x7xf32>
}

// -----

// A grouped 1-D conv has no named op: a generic over [N, G, F/G, O, C/G, K].
// CHECK-LABEL: func.func @conv_1d_grouped
// CHECK: tensor.expand_shape %arg0 {{\[}}[0], [1, 2], [3]] output_shape [1, 2, 2, 6]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
func.func @conv_1d_grouped(%x: tensor<1x4x6xf32>, %w: tensor<4x2x3xf32>) -> tensor<1x4x4xf32> {
  %0 = "mlc.conv"(%x, %w) {dilations = array<i64: 1>, group = 2 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x4x6xf32>, tensor<4x2x3xf32>) -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

// -----

// 3-D pooling has no NC-first named op: a generic whose window dims are reductions.
// CHECK-LABEL: func.func @max_pool_3d
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK: arith.maximumf
func.func @max_pool_3d(%x: tensor<1x2x4x4x4xf32>) -> tensor<1x2x2x2x2xf32> {
  %0 = "mlc.max_pool"(%x) {dilations = array<i64: 1, 1, 1>, kernel = array<i64: 2, 2, 2>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 2, 2, 2>} : (tensor<1x2x4x4x4xf32>) -> tensor<1x2x2x2x2xf32>
  return %0 : tensor<1x2x2x2x2xf32>
}

// -----

// ConvTranspose spreads the input with a strided insert_slice into zeros (k - 1 - pad on
// each side), then runs a stride-1 conv with the flipped kernel.
// CHECK-LABEL: func.func @conv_transpose
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 0, 1, 1] [1, 2, 3, 3] [1, 1, 2, 2] : tensor<1x2x3x3xf32> into tensor<1x2x7x7xf32>
// CHECK: tensor.extract %arg1
// CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
func.func @conv_transpose(%x: tensor<1x2x3x3xf32>, %w: tensor<2x4x3x3xf32>) -> tensor<1x4x5x5xf32> {
  %0 = "mlc.conv_transpose"(%x, %w) {dilations = array<i64: 1, 1>, group = 1 : i64, output_padding = array<i64: 0, 0>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x2x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<1x4x5x5xf32>
  return %0 : tensor<1x4x5x5xf32>
}

// -----

// An NHWC conv (made by mlc-nhwc-layout): the image padded in H and W, the bias broadcast
// along the channel dim (the last), linalg's NHWC/HWCF conv.
// CHECK-LABEL: func.func @conv_nhwc
// CHECK: linalg.fill {{.*}} -> tensor<1x7x7x16xf32>
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 1, 1, 0] [1, 5, 5, 16] [1, 1, 1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[BIAS:.*]], #{{.*}}]{{.*}} ins(%arg2 : tensor<8xf32>)
// CHECK: linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%{{.*}}, %arg1 : tensor<1x7x7x16xf32>, tensor<3x3x16x8xf32>) outs(%{{.*}} : tensor<1x3x3x8xf32>)
func.func @conv_nhwc(%x: tensor<1x5x5x16xf32>, %w: tensor<3x3x16x8xf32>, %b: tensor<8xf32>) -> tensor<1x3x3x8xf32> {
  %0 = "mlc.conv_nhwc"(%x, %w, %b) {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x5x5x16xf32>, tensor<3x3x16x8xf32>, tensor<8xf32>) -> tensor<1x3x3x8xf32>
  return %0 : tensor<1x3x3x8xf32>
}

// -----

// An NHWC max pool (made by mlc-nhwc-layout): the image padded with -inf in H and W only,
// linalg's NHWC pooling.
// CHECK-LABEL: func.func @max_pool_nhwc
// CHECK: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[NEG_INF]] : f32) {{.*}} -> tensor<1x7x7x16xf32>
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 1, 1, 0] [1, 5, 5, 16] [1, 1, 1, 1]
// CHECK: linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%{{.*}}, %{{.*}} : tensor<1x7x7x16xf32>, tensor<3x3xf32>) outs(%{{.*}} : tensor<1x3x3x16xf32>)
func.func @max_pool_nhwc(%x: tensor<1x5x5x16xf32>) -> tensor<1x3x3x16xf32> {
  %0 = "mlc.max_pool_nhwc"(%x) {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x5x5x16xf32>) -> tensor<1x3x3x16xf32>
  return %0 : tensor<1x3x3x16xf32>
}
