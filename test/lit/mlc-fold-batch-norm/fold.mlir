// RUN: mlc opt %s -p mlc-fold-batch-norm --split-input-file | FileCheck %s

// A BatchNorm after a conv with constant weights (here a resource blob) folds into the conv:
// s = scale / sqrt(var + eps) = [1, 2], W' = W * s, b' = (b - mean) * s + beta = [1.5, 2].
// CHECK: mlc.graph = {"mlc.batch_norm at bn" = "folded into mlc.conv at conv"}
// CHECK-LABEL: func.func @blob_filter
// CHECK: "mlc.constant"() {value = dense<{{.*}}1.600000e+01{{.*}}> : tensor<2x4x1x1xf32>}
// CHECK: %[[B:.*]] = "mlc.constant"() {value = dense<[1.500000e+00, 2.000000e+00]> : tensor<2xf32>}
// CHECK: "mlc.conv"(%arg0, %{{.*}}, %[[B]])
// CHECK-NOT: mlc.batch_norm
// CHECK: return
module {
  func.func @blob_filter(%x: tensor<1x4x3x3xf32>) -> tensor<1x2x3x3xf32> {
    %w = "mlc.constant"() {value = dense_resource<w> : tensor<2x4x1x1xf32>} : () -> tensor<2x4x1x1xf32>
    %b = "mlc.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
    %c = "mlc.conv"(%x, %w, %b) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x3x3xf32>, tensor<2x4x1x1xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32> loc("conv")
    %scale = "mlc.constant"() {value = dense<[2.0, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
    %beta = "mlc.constant"() {value = dense<[1.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
    %mean = "mlc.constant"() {value = dense<[0.5, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
    %var = "mlc.constant"() {value = dense<[4.0, 0.25]> : tensor<2xf32>} : () -> tensor<2xf32>
    %y = "mlc.batch_norm"(%c, %scale, %beta, %mean, %var) {epsilon = 0.0 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32> loc("bn")
    return %y : tensor<1x2x3x3xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F0000004000004040000080400000A0400000C0400000E04000000041"
    }
  }
#-}

// -----

// Splat weights (the light models' ConstantOfShape weights) fold too; a conv without a bias
// gets one.
// CHECK-LABEL: func.func @splat_filter
// CHECK: "mlc.constant"() {value = dense<1.000000e+00> : tensor<2x4x1x1xf32>}
// CHECK: "mlc.constant"() {value = dense<-5.000000e-01> : tensor<2xf32>}
// CHECK-NOT: mlc.batch_norm
// CHECK: return
func.func @splat_filter(%x: tensor<1x4x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w = "mlc.constant"() {value = dense<0.5> : tensor<2x4x1x1xf32>} : () -> tensor<2x4x1x1xf32>
  %c = "mlc.conv"(%x, %w) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x3x3xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x3x3xf32>
  %scale = "mlc.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %beta = "mlc.constant"() {value = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %mean = "mlc.constant"() {value = dense<0.25> : tensor<2xf32>} : () -> tensor<2xf32>
  %var = "mlc.constant"() {value = dense<0.25> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "mlc.batch_norm"(%c, %scale, %beta, %mean, %var) {epsilon = 0.0 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

// -----

// The conv's result is also returned: folding would change that output, so the BatchNorm
// stays apart (the record says why), as a per-channel multiply-add by constants.
// CHECK: not folded: the conv's result has other users; became x * s + t
// CHECK-LABEL: func.func @shared_conv
// CHECK: %[[C:.*]] = "mlc.conv"
// CHECK: %[[S:.*]] = "mlc.mul"(%[[C]], %{{.*}}) : (tensor<1x2x3x3xf32>, tensor<2x1x1xf32>)
// CHECK: "mlc.add"(%[[S]], %{{.*}}) : (tensor<1x2x3x3xf32>, tensor<2x1x1xf32>)
// CHECK-NOT: mlc.batch_norm
func.func @shared_conv(%x: tensor<1x4x3x3xf32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) {
  %w = "mlc.constant"() {value = dense<0.5> : tensor<2x4x1x1xf32>} : () -> tensor<2x4x1x1xf32>
  %c = "mlc.conv"(%x, %w) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x3x3xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x3x3xf32>
  %s = "mlc.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "mlc.batch_norm"(%c, %s, %s, %s, %s) {epsilon = 0.0 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %c, %y : tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>
}

// -----

// A per-channel scale and shift after a conv (Inception-v2's BatchNorm tail: Mul and Add by
// [C, 1, 1] constants, the scale behind a reshape) fold into its filter and bias:
// W' = W * s = [2, 3] * 1, b' = b * s + t = [1 * 2 + 0.5, 1 * 3 - 1].
// CHECK: "mlc.add at add" = "folded into mlc.conv at conv", "mlc.mul at mul" = "folded into mlc.conv at conv"
// CHECK-LABEL: func.func @scale_shift
// CHECK: "mlc.constant"() {value = dense<{{\[\[\[\[}}2.000000e+00{{.*}}3.000000e+00{{.*}}> : tensor<2x4x1x1xf32>}
// CHECK: %[[B:.*]] = "mlc.constant"() {value = dense<[2.500000e+00, 2.000000e+00]> : tensor<2xf32>}
// CHECK: "mlc.conv"(%arg0, %{{.*}}, %[[B]])
// CHECK-NOT: mlc.mul
// CHECK-NOT: mlc.add
// CHECK: return
module {
  func.func @scale_shift(%x: tensor<1x4x3x3xf32>) -> tensor<1x2x3x3xf32> {
    %w = "mlc.constant"() {value = dense<1.0> : tensor<2x4x1x1xf32>} : () -> tensor<2x4x1x1xf32>
    %b = "mlc.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
    %c = "mlc.conv"(%x, %w, %b) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x3x3xf32>, tensor<2x4x1x1xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32> loc("conv")
    %s0 = "mlc.constant"() {value = dense<[2.0, 3.0]> : tensor<2xf32>} : () -> tensor<2xf32>
    %s = "mlc.reshape"(%s0) : (tensor<2xf32>) -> tensor<2x1x1xf32>
    %m = "mlc.mul"(%c, %s) : (tensor<1x2x3x3xf32>, tensor<2x1x1xf32>) -> tensor<1x2x3x3xf32> loc("mul")
    %t = "mlc.constant"() {value = dense<[[[0.5]], [[-1.0]]]> : tensor<2x1x1xf32>} : () -> tensor<2x1x1xf32>
    %y = "mlc.add"(%t, %m) : (tensor<2x1x1xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> loc("add")
    return %y : tensor<1x2x3x3xf32>
  }
}
