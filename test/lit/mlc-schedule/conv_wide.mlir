// RUN: mlc opt %s -p mlc-schedule --split-input-file | FileCheck %s

// A stride-1 KxK NHWC conv whose filter has no column panels reads its left operand in
// place: no im2col tensor, one matmul kernel inside loops over the filter rows and columns,
// whose left operand is a row slice of the padded input (one zero image row added below,
// 11 x 10 rows of channels) at a dynamic offset ("wide" rows: OH x (OW + KW - 1)).
// CHECK-LABEL: func.func @wide_conv
// CHECK-NOT: tensor<8x8x3x3x16xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: tensor.extract_slice %{{.*}}[%{{.*}}, 0] [80, 16] [1, 1] : tensor<110x16xf32> to tensor<80x16xf32>
// CHECK: vector.contract
module attributes {mlc.target = "x86-64-v3"} {
  func.func @wide_conv(%x: tensor<1x10x10x16xf32>, %init: tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
    %hwcf = arith.constant dense<0.5> : tensor<3x3x16x8xf32>
    %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %hwcf : tensor<1x10x10x16xf32>, tensor<3x3x16x8xf32>) outs(%init : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
    return %0 : tensor<1x8x8x8xf32>
  }
}

// -----

// When the accumulators of all wide rows would fill more than half of L2 (1 MiB for
// x86-64-v3), an outer loop runs every tap on one block of whole output rows at a time:
// 64 x 66 x 64 floats is 1.03 MiB, so blocks of 16 output rows (16 x 66 wide rows).
// CHECK-LABEL: func.func @blocked_wide_conv
// CHECK: scf.for %{{.*}} = %c0 to %c4224 step %c1056
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: vector.contract
module attributes {mlc.target = "x86-64-v3"} {
  func.func @blocked_wide_conv(%x: tensor<1x66x66x16xf32>, %init: tensor<1x64x64x64xf32>) -> tensor<1x64x64x64xf32> {
    %hwcf = arith.constant dense<0.5> : tensor<3x3x16x64xf32>
    %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %hwcf : tensor<1x66x66x16xf32>, tensor<3x3x16x64xf32>) outs(%init : tensor<1x64x64x64xf32>) -> tensor<1x64x64x64xf32>
    return %0 : tensor<1x64x64x64xf32>
  }
}
