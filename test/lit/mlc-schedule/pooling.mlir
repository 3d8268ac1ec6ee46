// RUN: mlc opt %s -p mlc-schedule --split-input-file | FileCheck %s

// A 3x3 stride-2 max pool: one row pass over the three input rows, then the column pass
// reads its rows in pairs ([OW, 2] views, contiguous) instead of every other column: a short
// reduction vectorized along the output row, the pairs split by one shuffle. The odd third
// column is masked by a constant [1, 0]. The last pair needs an 18th column (a -inf border).
// CHECK: k{{[0-9]+}} = "short reduction tile 1x1x8x0"
// CHECK-LABEL: func.func @max_pool_s2
// CHECK-NOT: linalg.pooling_nchw_max
// CHECK: tensor.expand_shape {{.*}} : tensor<8x8x16xf32> into tensor<8x8x8x2xf32>
// CHECK: vector.shuffle
// CHECK: arith.maximumf {{.*}} : vector<8xf32>
module attributes {mlc.target = "x86-64-v4"} {
  func.func @max_pool_s2(%x: tensor<1x8x17x17xf32>) -> tensor<1x8x8x8xf32> {
    %lowest = arith.constant 0xFF800000 : f32
    %window = tensor.empty() : tensor<3x3xf32>
    %e = tensor.empty() : tensor<1x8x8x8xf32>
    %init = linalg.fill ins(%lowest : f32) outs(%e : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
    %0 = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
        ins(%x, %window : tensor<1x8x17x17xf32>, tensor<3x3xf32>) outs(%init : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
    return %0 : tensor<1x8x8x8xf32>
  }
}

// -----

// An NHWC max pool, 3x3 stride 2: a row pass (3 taps, strided slices [3, 7, 16] of whole
// rows of channels) and a column pass (3 taps, every other pixel), both elementwise ops
// vectorized along the channels, contiguous in every tap.
// CHECK-LABEL: func.func @max_pool_nhwc
// CHECK-NOT: linalg.pooling_nhwc_max
// CHECK-COUNT-3: tensor.extract_slice {{.*}} [3, 7, 16] [2, 1, 1] : tensor<7x7x16xf32> to tensor<3x7x16xf32>
// CHECK-COUNT-3: tensor.extract_slice {{.*}} [3, 3, 16] [1, 2, 1] : tensor<3x7x16xf32> to tensor<3x3x16xf32>
// CHECK: arith.maximumf {{.*}} : vector<16xf32>
module attributes {mlc.target = "x86-64-v4"} {
  func.func @max_pool_nhwc(%x: tensor<1x7x7x16xf32>) -> tensor<1x3x3x16xf32> {
    %lowest = arith.constant 0xFF800000 : f32
    %window = tensor.empty() : tensor<3x3xf32>
    %e = tensor.empty() : tensor<1x3x3x16xf32>
    %init = linalg.fill ins(%lowest : f32) outs(%e : tensor<1x3x3x16xf32>) -> tensor<1x3x3x16xf32>
    %0 = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
        ins(%x, %window : tensor<1x7x7x16xf32>, tensor<3x3xf32>) outs(%init : tensor<1x3x3x16xf32>) -> tensor<1x3x3x16xf32>
    return %0 : tensor<1x3x3x16xf32>
  }
}
