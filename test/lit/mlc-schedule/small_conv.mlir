// RUN: mlc opt %s -p mlc-schedule | FileCheck %s

// An RGB stem conv (3 channels, 3x3, stride 2): no im2col and no GEMM, but one row kernel over
// all filters: per output chunk, each input row read once (2*8 + 2 elements), each tap an
// even/odd pick of it, one FMA per filter and tap into the filters' accumulators.
// CHECK-LABEL: func.func @rgb_stem
// CHECK-NOT: linalg.conv_2d_nchw_fchw
// CHECK-NOT: vector.contract
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} vector<18xf32>
// CHECK: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14] : vector<18xf32>
// CHECK-COUNT-4: math.fma {{.*}} : vector<8xf32>
// CHECK: vector.shuffle {{.*}} [1, 3, 5, 7, 9, 11, 13, 15] : vector<18xf32>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @rgb_stem(%x: tensor<1x3x17x17xf32>, %w: tensor<4x3x3x3xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
    %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<1x3x17x17xf32>, tensor<4x3x3x3xf32>) outs(%init : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    return %0 : tensor<1x4x8x8xf32>
  }
}
