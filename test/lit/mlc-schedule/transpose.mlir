// RUN: mlc opt %s -p mlc-schedule | FileCheck %s

// A channel shuffle's transpose keeps the innermost dim: it becomes an all-parallel generic
// that moves whole rows, tiled and vectorized like any elementwise op.
// CHECK: mlc.schedule = {k1 = "elementwise linalg.generic tile 1x1x1x1x28"}
// CHECK-LABEL: func.func @channel_shuffle
// CHECK-NOT: linalg.transpose
// CHECK: vector.transfer_read {{.*}} vector<28xf32>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @channel_shuffle(%x: tensor<1x3x8x28x28xf32>) -> tensor<1x8x3x28x28xf32> {
    %init = tensor.empty() : tensor<1x8x3x28x28xf32>
    %0 = linalg.transpose ins(%x : tensor<1x3x8x28x28xf32>) outs(%init : tensor<1x8x3x28x28xf32>) permutation = [0, 2, 1, 3, 4]
    return %0 : tensor<1x8x3x28x28xf32>
  }
}
