// RUN: mlc opt %s -p mlc-conv-filter-layout --split-input-file | FileCheck %s

// A 3x3 conv's filter [F=2, C=16, 3, 3] becomes an HWCF constant [3, 3, 16, 2] behind a
// transpose back to FCHW: the conv computes the same value.
// CHECK-LABEL: func.func @kxk
// CHECK: %[[HWCF:.*]] = "mlc.constant"() {value = dense<{{.*}}> : tensor<3x3x16x2xf32>}
// CHECK: %[[W:.*]] = "mlc.transpose"(%[[HWCF]]) {perm = array<i64: 3, 2, 0, 1>} : (tensor<3x3x16x2xf32>) -> tensor<2x16x3x3xf32>
// CHECK: "mlc.conv"(%arg0, %[[W]])
func.func @kxk(%x: tensor<1x16x5x5xf32>) -> tensor<1x2x3x3xf32> {
  %w = "mlc.constant"() {value = dense<0.5> : tensor<2x16x3x3xf32>} : () -> tensor<2x16x3x3xf32>
  %0 = "mlc.conv"(%x, %w) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x5x5xf32>, tensor<2x16x3x3xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// 1x1 stride-1 convs are GEMMs on NCHW already, and an RGB stem has too few channels for
// contiguous im2col rows: both keep their filters.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: mlc.transpose
func.func @kept(%x: tensor<1x16x5x5xf32>, %rgb: tensor<1x3x5x5xf32>) -> (tensor<1x2x5x5xf32>, tensor<1x2x3x3xf32>) {
  %w1 = "mlc.constant"() {value = dense<0.5> : tensor<2x16x1x1xf32>} : () -> tensor<2x16x1x1xf32>
  %0 = "mlc.conv"(%x, %w1) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x5x5xf32>, tensor<2x16x1x1xf32>) -> tensor<1x2x5x5xf32>
  %w3 = "mlc.constant"() {value = dense<0.5> : tensor<2x3x3x3xf32>} : () -> tensor<2x3x3x3xf32>
  %1 = "mlc.conv"(%rgb, %w3) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x5x5xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x3x3xf32>
  return %0, %1 : tensor<1x2x5x5xf32>, tensor<1x2x3x3xf32>
}

// -----

// With F a multiple of the register tile width (32 on AVX-512), the HWCF filter is itself a
// view of column panels [F/32, KH*KW*C, 32], which the panel GEMM reads.
// CHECK-LABEL: func.func @panels
// CHECK: %[[P:.*]] = "mlc.constant"() {value = dense{{.*}} : tensor<2x144x32xf32>}
// CHECK: %[[T:.*]] = "mlc.transpose"(%[[P]]) {perm = array<i64: 1, 0, 2>} : (tensor<2x144x32xf32>) -> tensor<144x2x32xf32>
// CHECK: %[[HWCF:.*]] = "mlc.reshape"(%[[T]]) : (tensor<144x2x32xf32>) -> tensor<3x3x16x64xf32>
// CHECK: %[[W:.*]] = "mlc.transpose"(%[[HWCF]]) {perm = array<i64: 3, 2, 0, 1>} : (tensor<3x3x16x64xf32>) -> tensor<64x16x3x3xf32>
// CHECK: "mlc.conv"(%arg0, %[[W]])
module attributes {mlc.target = "x86-64-v4"} {
  func.func @panels(%x: tensor<1x16x5x5xf32>) -> tensor<1x64x3x3xf32> {
    %w = "mlc.constant"() {value = dense<0.5> : tensor<64x16x3x3xf32>} : () -> tensor<64x16x3x3xf32>
    %0 = "mlc.conv"(%x, %w) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x5x5xf32>, tensor<64x16x3x3xf32>) -> tensor<1x64x3x3xf32>
    return %0 : tensor<1x64x3x3xf32>
  }
}
