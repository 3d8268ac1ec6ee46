// RUN: mlc opt %s -p mlc-schedule --split-input-file | FileCheck %s

// Softmax's sum over contiguous rows: one vector per row, reduced in registers (no scalar
// accumulator going through memory); 64k elements read, so chunks of rows run in parallel.
// CHECK: k2 = "row reduction tile 1x1x1x0, parallel 0x0x8x0"
// CHECK-LABEL: func.func @softmax_sum
// CHECK: scf.forall (%{{.*}}) in (16)
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} vector<128xf32>
// CHECK: vector.reduction <add>, {{.*}} : vector<128xf32> into f32
module attributes {mlc.target = "x86-64-v4"} {
  func.func @softmax_sum(%x: tensor<1x4x128x128xf32>) -> tensor<1x4x128xf32> {
    %z = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<1x4x128xf32>
    %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x4x128xf32>) -> tensor<1x4x128xf32>
    %r = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c)>],
                         iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
        ins(%x : tensor<1x4x128x128xf32>) outs(%i : tensor<1x4x128xf32>) {
    ^bb0(%in: f32, %out: f32):
      %s = arith.addf %out, %in : f32
      linalg.yield %s : f32
    } -> tensor<1x4x128xf32>
    return %r : tensor<1x4x128xf32>
  }
}

// -----

// A global average pool's sum with the ReLU before it fused in: two trailing reduction dims
// (13x13, an odd size) read as one block.
// CHECK: k2 = "row reduction tile 1x1x0x0, parallel 0x100x0x0"
// CHECK-LABEL: func.func @relu_pool_sum
// CHECK: arith.maximumf {{.*}} : vector<13x13xf32>
// CHECK: vector.reduction <add>, {{.*}} : vector<169xf32> into f32
module attributes {mlc.target = "x86-64-v4"} {
  func.func @relu_pool_sum(%x: tensor<1x1000x13x13xf32>) -> tensor<1x1000xf32> {
    %z = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<1x1000xf32>
    %i = linalg.fill ins(%z : f32) outs(%e : tensor<1x1000xf32>) -> tensor<1x1000xf32>
    %r = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b)>],
                         iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
        ins(%x : tensor<1x1000x13x13xf32>) outs(%i : tensor<1x1000xf32>) {
    ^bb0(%in: f32, %out: f32):
      %m = arith.maximumf %in, %z : f32
      %s = arith.addf %out, %m : f32
      linalg.yield %s : f32
    } -> tensor<1x1000xf32>
    return %r : tensor<1x1000xf32>
  }
}

// -----

// A reduction over a non-innermost dim would read strided columns: left to the naive path.
// CHECK-NOT: row reduction
// CHECK-LABEL: func.func @column_sum
module attributes {mlc.target = "x86-64-v4"} {
  func.func @column_sum(%x: tensor<64x32xf32>, %i: tensor<32xf32>) -> tensor<32xf32> {
    %r = linalg.generic {indexing_maps = [affine_map<(a, b) -> (b, a)>, affine_map<(a, b) -> (a)>],
                         iterator_types = ["parallel", "reduction"]}
        ins(%x : tensor<64x32xf32>) outs(%i : tensor<32xf32>) {
    ^bb0(%in: f32, %out: f32):
      %s = arith.addf %out, %in : f32
      linalg.yield %s : f32
    } -> tensor<32xf32>
    return %r : tensor<32xf32>
  }
}
