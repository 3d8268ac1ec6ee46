// RUN: mlc opt %s -p mlc-schedule --split-input-file | FileCheck %s

// A 1x1 grouped conv (4 groups of 32 channels, 6.4 MFLOP): one matmul per group, which reads
// the input as it lies, so a parallel loop runs the groups; each group's matmul pieces run
// whole inside it (no forall of their own).
// CHECK: mlc.schedule = {k1 = "reg 8x32 (n,m), cache m0 n0 k0"
// CHECK-NOT: parallel
// CHECK-LABEL: func.func @grouped_1x1
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK-NOT: scf.forall
// CHECK: vector.contract
// CHECK: scf.forall.in_parallel
module attributes {mlc.target = "x86-64-v4"} {
  func.func @grouped_1x1(%x: tensor<1x4x32x28x28xf32>, %w: tensor<4x32x32x1x1xf32>, %init: tensor<1x4x32x28x28xf32>) -> tensor<1x4x32x28x28xf32> {
    %0 = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
        ins(%x, %w : tensor<1x4x32x28x28xf32>, tensor<4x32x32x1x1xf32>) outs(%init : tensor<1x4x32x28x28xf32>) -> tensor<1x4x32x28x28xf32>
    return %0 : tensor<1x4x32x28x28xf32>
  }
}

// -----

// A 3x3 grouped conv builds each group's columns in a scratch buffer: its groups stay in
// sequence (each group's matmul may still split).
// CHECK-LABEL: func.func @grouped_3x3
// CHECK-NOT: scf.forall (%{{.*}}) in (4)
// CHECK: return
module attributes {mlc.target = "x86-64-v4"} {
  func.func @grouped_3x3(%x: tensor<1x4x8x30x30xf32>, %w: tensor<4x8x8x3x3xf32>, %init: tensor<1x4x8x28x28xf32>) -> tensor<1x4x8x28x28xf32> {
    %0 = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
        ins(%x, %w : tensor<1x4x8x30x30xf32>, tensor<4x8x8x3x3xf32>) outs(%init : tensor<1x4x8x28x28xf32>) -> tensor<1x4x8x28x28xf32>
    return %0 : tensor<1x4x8x28x28xf32>
  }
}
