// RUN: mlc opt %s -p mlc-pack-matmul-weights --split-input-file | FileCheck %s

// AVX-512 (x86-64-v4): register tiles 8 rows x 32 columns. B [K=16, N=64] becomes panels
// [64/32, 16, 32] behind a transpose to [16, 2, 32] and a reshape back to [16, 64]; A's batch
// dims count as rows (2 x 4 = 8).
// CHECK-LABEL: func.func @panels
// CHECK: %[[P:.*]] = "mlc.constant"() {value = dense<5.000000e-01> : tensor<2x16x32xf32>}
// CHECK: %[[T:.*]] = "mlc.transpose"(%[[P]]) {perm = array<i64: 1, 0, 2>} : (tensor<2x16x32xf32>) -> tensor<16x2x32xf32>
// CHECK: %[[B:.*]] = "mlc.reshape"(%[[T]]) : (tensor<16x2x32xf32>) -> tensor<16x64xf32>
// CHECK: "mlc.matmul"(%arg0, %[[B]])
module attributes {mlc.target = "x86-64-v4"} {
  func.func @panels(%a: tensor<2x4x16xf32>) -> tensor<2x4x64xf32> {
    %b = "mlc.constant"() {value = dense<0.5> : tensor<16x64xf32>} : () -> tensor<16x64xf32>
    %0 = "mlc.matmul"(%a, %b) : (tensor<2x4x16xf32>, tensor<16x64xf32>) -> tensor<2x4x64xf32>
    return %0 : tensor<2x4x64xf32>
  }
}

// -----

// AVX2 (x86-64-v3): panels of 16 columns.
// CHECK-LABEL: func.func @avx2
// CHECK: "mlc.constant"() {value = dense<5.000000e-01> : tensor<4x16x16xf32>}
module attributes {mlc.target = "x86-64-v3"} {
  func.func @avx2(%a: tensor<8x16xf32>) -> tensor<8x64xf32> {
    %b = "mlc.constant"() {value = dense<0.5> : tensor<16x64xf32>} : () -> tensor<16x64xf32>
    %0 = "mlc.matmul"(%a, %b) : (tensor<8x16xf32>, tensor<16x64xf32>) -> tensor<8x64xf32>
    return %0 : tensor<8x64xf32>
  }
}

// -----

// Kept: fewer rows than a register tile with a small B (a batch-1 layer of 4 KiB), an N that
// panels of 32 would pad by more than a quarter (40 -> 64), N only one panel wide, and a B
// that is not a constant.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: mlc.transpose
module attributes {mlc.target = "x86-64-v4"} {
  func.func @kept(%a1: tensor<1x16xf32>, %a: tensor<8x16xf32>, %b: tensor<16x64xf32>) -> (tensor<1x64xf32>, tensor<8x40xf32>, tensor<8x32xf32>, tensor<8x64xf32>) {
    %w = "mlc.constant"() {value = dense<0.5> : tensor<16x64xf32>} : () -> tensor<16x64xf32>
    %0 = "mlc.matmul"(%a1, %w) : (tensor<1x16xf32>, tensor<16x64xf32>) -> tensor<1x64xf32>
    %w40 = "mlc.constant"() {value = dense<0.5> : tensor<16x40xf32>} : () -> tensor<16x40xf32>
    %1 = "mlc.matmul"(%a, %w40) : (tensor<8x16xf32>, tensor<16x40xf32>) -> tensor<8x40xf32>
    %w32 = "mlc.constant"() {value = dense<0.5> : tensor<16x32xf32>} : () -> tensor<16x32xf32>
    %2 = "mlc.matmul"(%a, %w32) : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
    %3 = "mlc.matmul"(%a, %b) : (tensor<8x16xf32>, tensor<16x64xf32>) -> tensor<8x64xf32>
    return %0, %1, %2, %3 : tensor<1x64xf32>, tensor<8x40xf32>, tensor<8x32xf32>, tensor<8x64xf32>
  }
}

// -----

// A matrix-vector product (one row of A) whose B is large (256 x 1000, 1000 KiB) is bound by
// reading B: it gets panels too, to stream each panel contiguously, the last one padded with
// zero columns (1000 -> 1024) and sliced off the view.
// CHECK-LABEL: func.func @gemv
// CHECK: "mlc.constant"() {value = dense{{.*}} : tensor<32x256x32xf32>}
// CHECK: "mlc.slice"({{.*}}) {{.*}} : (tensor<256x1024xf32>) -> tensor<256x1000xf32>
// CHECK: "mlc.matmul"
module attributes {mlc.target = "x86-64-v4"} {
  func.func @gemv(%a: tensor<1x256xf32>) -> tensor<1x1000xf32> {
    %w = "mlc.constant"() {value = dense<0.5> : tensor<256x1000xf32>} : () -> tensor<256x1000xf32>
    %0 = "mlc.matmul"(%a, %w) : (tensor<1x256xf32>, tensor<256x1000xf32>) -> tensor<1x1000xf32>
    return %0 : tensor<1x1000xf32>
  }
}
