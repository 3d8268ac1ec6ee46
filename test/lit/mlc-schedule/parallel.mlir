// RUN: mlc opt %s -p mlc-schedule --split-input-file | FileCheck %s

// A large matmul's outermost tile loop is an scf.forall over chunks of m or n (the register
// tiles divide each chunk); the schedule records the split. Its B is copied into panels
// first (256 rows of A reuse them), and the hand-built panel kernel computes the chunks:
// fourteen of 18 rows (three 6-row tiles each), then the 4 rows they leave.
// CHECK: mlc.schedule = {k1 = "panel GEMM reg 6x16, cache m0 k0, parallel m18"
// CHECK-LABEL: func.func @big_matmul
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [252, 64]
// CHECK: scf.forall (%{{.*}}) in (14)
// CHECK: math.fma
// CHECK: scf.forall.in_parallel
// CHECK: tensor.extract_slice %{{.*}}[252, 0] [4, 64]
// CHECK: math.fma {{.*}} : vector<8xf32>
// CHECK: tensor.insert_slice %{{.*}}[252, 0] [4, 64]
module attributes {mlc.target = "x86-64-v3"} {
  func.func @big_matmul(%a: tensor<256x128xf32>, %b: tensor<128x64xf32>, %acc: tensor<256x64xf32>) -> tensor<256x64xf32> {
    %0 = linalg.matmul ins(%a, %b : tensor<256x128xf32>, tensor<128x64xf32>) outs(%acc : tensor<256x64xf32>) -> tensor<256x64xf32>
    return %0 : tensor<256x64xf32>
  }
}

// -----

// A matrix-vector product (0.5 MFLOP) is bound by reading its B (1 MiB): worth a fork, each
// thread streaming its chunk of B's columns.
// CHECK: k1 = "reg 1x256 (n,m), cache m0 n0 k0, parallel n256"
// CHECK-LABEL: func.func @gemv
// CHECK: scf.forall (%{{.*}}) in (2)
module attributes {mlc.target = "x86-64-v4"} {
  func.func @gemv(%a: tensor<1x512xf32>, %b: tensor<512x512xf32>, %acc: tensor<1x512xf32>) -> tensor<1x512xf32> {
    %0 = linalg.matmul ins(%a, %b : tensor<1x512xf32>, tensor<512x512xf32>) outs(%acc : tensor<1x512xf32>) -> tensor<1x512xf32>
    return %0 : tensor<1x512xf32>
  }
}

// -----

// A small one (under 1 MFLOP, and a B of 8 KiB) stays on one thread: no forall.
// CHECK-LABEL: func.func @small_matmul
// CHECK-NOT: scf.forall
// CHECK: vector.contract
// CHECK: return
module attributes {mlc.target = "x86-64-v3"} {
  func.func @small_matmul(%a: tensor<16x32xf32>, %b: tensor<32x64xf32>, %acc: tensor<16x64xf32>) -> tensor<16x64xf32> {
    %0 = linalg.matmul ins(%a, %b : tensor<16x32xf32>, tensor<32x64xf32>) outs(%acc : tensor<16x64xf32>) -> tensor<16x64xf32>
    return %0 : tensor<16x64xf32>
  }
}

// -----

// A large elementwise op (>= 32k elements) is cut along its first dimension with an even
// chunk count; the vectorized rows are inside.
// CHECK: mlc.schedule = {k1 = "elementwise linalg.generic tile 1x1x128, parallel 0x4x0"
// CHECK-LABEL: func.func @big_relu
// CHECK: scf.forall (%{{.*}}) in (16)
// CHECK: arith.maximumf {{.*}} : vector<128xf32>
#id = affine_map<(a, b, c) -> (a, b, c)>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @big_relu(%x: tensor<1x64x2048xf32>, %init: tensor<1x64x2048xf32>) -> tensor<1x64x2048xf32> {
    %zero = arith.constant 0.0 : f32
    %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<1x64x2048xf32>) outs(%init : tensor<1x64x2048xf32>) {
    ^bb0(%in: f32, %out: f32):
      %r = arith.maximumf %in, %zero : f32
      linalg.yield %r : f32
    } -> tensor<1x64x2048xf32>
    return %0 : tensor<1x64x2048xf32>
  }
}
