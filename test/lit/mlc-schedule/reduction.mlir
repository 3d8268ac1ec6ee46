// RUN: mlc opt %s -p mlc-schedule | FileCheck %s

// A global average pool's sum with a ReLU6 fused into it: the rows of each channel become the
// inputs of one vectorized elementwise op (clip and add per row), and only a 256x14 sum is
// left to the naive loops.
// CHECK: k1 = "elementwise linalg.generic tile 1x1x14"
// CHECK-LABEL: func.func @clip_then_sum
// CHECK-COUNT-14: arith.minimumf {{.*}} : vector<14xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
module attributes {mlc.target = "x86-64-v3"} {
  func.func @clip_then_sum(%x: tensor<1x256x14x14xf32>, %init: tensor<1x256xf32>) -> tensor<1x256xf32> {
    %zero = arith.constant 0.0 : f32
    %six = arith.constant 6.0 : f32
    %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%x : tensor<1x256x14x14xf32>) outs(%init : tensor<1x256xf32>) {
    ^bb0(%in: f32, %out: f32):
      %1 = arith.maximumf %in, %zero : f32
      %2 = arith.minimumf %1, %six : f32
      %3 = arith.addf %out, %2 : f32
      linalg.yield %3 : f32
    } -> tensor<1x256xf32>
    return %0 : tensor<1x256xf32>
  }
}
