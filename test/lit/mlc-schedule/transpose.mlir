// RUN: mlc opt %s -p mlc-schedule --split-input-file | FileCheck %s

// A channel shuffle's transpose keeps the innermost dims: it becomes an all-parallel generic
// that moves whole rows, each a whole 28x28 image (the dims it keeps, collapsed), tiled and
// vectorized like any elementwise op.
// CHECK: mlc.schedule = {k1 = "elementwise linalg.generic tile 1x1x1x112"}
// CHECK-LABEL: func.func @channel_shuffle
// CHECK-NOT: linalg.transpose
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0], [1], [2], [3, 4]] : tensor<1x3x8x28x28xf32> into tensor<1x3x8x784xf32>
// CHECK: vector.transfer_read {{.*}} vector<112xf32>
// CHECK: tensor.expand_shape {{.*}} into tensor<1x8x3x28x28xf32>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @channel_shuffle(%x: tensor<1x3x8x28x28xf32>) -> tensor<1x8x3x28x28xf32> {
    %init = tensor.empty() : tensor<1x8x3x28x28xf32>
    %0 = linalg.transpose ins(%x : tensor<1x3x8x28x28xf32>) outs(%init : tensor<1x8x3x28x28xf32>) permutation = [0, 2, 1, 3, 4]
    return %0 : tensor<1x8x3x28x28xf32>
  }
}

// -----

// A layout transpose NHWC -> NCHW whose channels (20) vectors (8 lanes) do not divide: the
// [36, 20] -> [20, 36] transpose is cut along both dims into whole vectors and rests, so the
// [16, 32] bulk is made of 8x8 register transposes and only the thin edges are not.
// CHECK: k1 = "elementwise linalg.generic tile 8x8"
// CHECK-LABEL: func.func @to_nchw
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [32, 16] [1, 1] : tensor<36x20xf32> to tensor<32x16xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<8x8xf32>, vector<8x8xf32>
// CHECK: tensor.insert_slice {{.*}}[0, 0] [16, 32] [1, 1] : tensor<16x32xf32> into tensor<20x36xf32>
// CHECK: tensor.insert_slice {{.*}}[0, 32] [16, 4] [1, 1] : tensor<16x4xf32> into tensor<20x36xf32>
// CHECK: tensor.insert_slice {{.*}}[16, 0] [4, 32] [1, 1] : tensor<4x32xf32> into tensor<20x36xf32>
// CHECK: tensor.insert_slice {{.*}}[16, 32] [4, 4] [1, 1] : tensor<4x4xf32> into tensor<20x36xf32>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @to_nchw(%x: tensor<1x6x6x20xf32>) -> tensor<1x20x6x6xf32> {
    %init = tensor.empty() : tensor<1x20x6x6xf32>
    %0 = linalg.transpose ins(%x : tensor<1x6x6x20xf32>) outs(%init : tensor<1x20x6x6xf32>) permutation = [0, 3, 1, 2]
    return %0 : tensor<1x20x6x6xf32>
  }
}
