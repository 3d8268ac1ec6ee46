// RUN: mlc opt %s -p mlc-nhwc-layout --split-input-file | FileCheck %s

// conv 3x3 -> (x * s + t per channel) -> relu -> conv 1x1 -> add (residual) -> concat:
// the convs run on NHWC images, the per-channel constants are re-laid [1, 1, 1, C], the
// concat is along the channel dim of NHWC (3), and one transpose is left at each end.
// CHECK-LABEL: func.func @chain
// CHECK: %[[IN:.*]] = "mlc.transpose"(%arg0) {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x16x6x6xf32>) -> tensor<1x6x6x16xf32>
// CHECK: %[[C1:.*]] = "mlc.conv_nhwc"(%[[IN]], {{.*}}) {{.*}} -> tensor<1x6x6x16xf32>
// CHECK: %[[S:.*]] = "mlc.constant"() {value = dense<2.000000e+00> : tensor<1x1x1x16xf32>}
// CHECK: %[[M:.*]] = "mlc.mul"(%[[C1]], %[[S]]) : (tensor<1x6x6x16xf32>, tensor<1x1x1x16xf32>) -> tensor<1x6x6x16xf32>
// CHECK: %[[R:.*]] = "mlc.relu"(%[[M]]) : (tensor<1x6x6x16xf32>)
// CHECK: %[[C2:.*]] = "mlc.conv_nhwc"(%[[R]], {{.*}}) {{.*}} -> tensor<1x6x6x16xf32>
// CHECK: %[[A:.*]] = "mlc.add"(%[[C2]], %[[IN]]) : (tensor<1x6x6x16xf32>, tensor<1x6x6x16xf32>)
// CHECK: %[[CAT:.*]] = "mlc.concat"(%[[A]], %[[R]]) {axis = 3 : i64} : (tensor<1x6x6x16xf32>, tensor<1x6x6x16xf32>) -> tensor<1x6x6x32xf32>
// CHECK: %[[OUT:.*]] = "mlc.transpose"(%[[CAT]]) {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x6x6x32xf32>) -> tensor<1x32x6x6xf32>
// CHECK-NOT: mlc.transpose
// CHECK: return %[[OUT]]
func.func @chain(%x: tensor<1x16x6x6xf32>) -> tensor<1x32x6x6xf32> {
  %w3 = "mlc.constant"() {value = dense<0.5> : tensor<16x16x3x3xf32>} : () -> tensor<16x16x3x3xf32>
  %w1 = "mlc.constant"() {value = dense<0.25> : tensor<16x16x1x1xf32>} : () -> tensor<16x16x1x1xf32>
  %s = "mlc.constant"() {value = dense<2.0> : tensor<16x1x1xf32>} : () -> tensor<16x1x1xf32>
  %0 = "mlc.conv"(%x, %w3) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x16x6x6xf32>, tensor<16x16x3x3xf32>) -> tensor<1x16x6x6xf32>
  %1 = "mlc.mul"(%0, %s) : (tensor<1x16x6x6xf32>, tensor<16x1x1xf32>) -> tensor<1x16x6x6xf32>
  %2 = "mlc.relu"(%1) : (tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32>
  %3 = "mlc.conv"(%2, %w1) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x6x6xf32>, tensor<16x16x1x1xf32>) -> tensor<1x16x6x6xf32>
  %4 = "mlc.add"(%3, %x) : (tensor<1x16x6x6xf32>, tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32>
  %5 = "mlc.concat"(%4, %2) {axis = 1 : i64} : (tensor<1x16x6x6xf32>, tensor<1x16x6x6xf32>) -> tensor<1x32x6x6xf32>
  return %5 : tensor<1x32x6x6xf32>
}

// -----

// conv 3x3 -> relu -> max pool -> conv 1x1: the pool runs on the NHWC image too
// (mlc.max_pool_nhwc, same window attributes), and the 1x1 conv after it joins the region,
// so one transpose is left at each end.
// CHECK-LABEL: func.func @pool
// CHECK: "mlc.transpose"(%arg0) {perm = array<i64: 0, 2, 3, 1>}
// CHECK: %[[P:.*]] = "mlc.max_pool_nhwc"(%{{.*}}) {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x6x6x16xf32>) -> tensor<1x3x3x16xf32>
// CHECK: %[[C:.*]] = "mlc.conv_nhwc"(%[[P]], {{.*}}) {{.*}} -> tensor<1x3x3x16xf32>
// CHECK: %[[OUT:.*]] = "mlc.transpose"(%[[C]]) {perm = array<i64: 0, 3, 1, 2>}
// CHECK-NOT: mlc.transpose
// CHECK: return %[[OUT]]
func.func @pool(%x: tensor<1x16x6x6xf32>) -> tensor<1x16x3x3xf32> {
  %w3 = "mlc.constant"() {value = dense<0.5> : tensor<16x16x3x3xf32>} : () -> tensor<16x16x3x3xf32>
  %w1 = "mlc.constant"() {value = dense<0.25> : tensor<16x16x1x1xf32>} : () -> tensor<16x16x1x1xf32>
  %0 = "mlc.conv"(%x, %w3) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x16x6x6xf32>, tensor<16x16x3x3xf32>) -> tensor<1x16x6x6xf32>
  %1 = "mlc.relu"(%0) : (tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32>
  %2 = "mlc.max_pool"(%1) {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x16x6x6xf32>) -> tensor<1x16x3x3xf32>
  %3 = "mlc.conv"(%2, %w1) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x3x3xf32>, tensor<16x16x1x1xf32>) -> tensor<1x16x3x3xf32>
  return %3 : tensor<1x16x3x3xf32>
}

// -----

// The same with an average pool (Inception's pool branch, DenseNet's transitions): it
// becomes mlc.avg_pool_nhwc, with its count_include_pad.
// CHECK-LABEL: func.func @avg_pool
// CHECK: "mlc.transpose"(%arg0) {perm = array<i64: 0, 2, 3, 1>}
// CHECK: %[[P:.*]] = "mlc.avg_pool_nhwc"(%{{.*}}) {count_include_pad = 0 : i64, dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x6x6x16xf32>) -> tensor<1x3x3x16xf32>
// CHECK: %[[C:.*]] = "mlc.conv_nhwc"(%[[P]], {{.*}}) {{.*}} -> tensor<1x3x3x16xf32>
// CHECK: %[[OUT:.*]] = "mlc.transpose"(%[[C]]) {perm = array<i64: 0, 3, 1, 2>}
// CHECK-NOT: mlc.transpose
// CHECK: return %[[OUT]]
func.func @avg_pool(%x: tensor<1x16x6x6xf32>) -> tensor<1x16x3x3xf32> {
  %w3 = "mlc.constant"() {value = dense<0.5> : tensor<16x16x3x3xf32>} : () -> tensor<16x16x3x3xf32>
  %w1 = "mlc.constant"() {value = dense<0.25> : tensor<16x16x1x1xf32>} : () -> tensor<16x16x1x1xf32>
  %0 = "mlc.conv"(%x, %w3) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x16x6x6xf32>, tensor<16x16x3x3xf32>) -> tensor<1x16x6x6xf32>
  %1 = "mlc.relu"(%0) : (tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32>
  %2 = "mlc.avg_pool"(%1) {count_include_pad = 0 : i64, dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x16x6x6xf32>) -> tensor<1x16x3x3xf32>
  %3 = "mlc.conv"(%2, %w1) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x3x3xf32>, tensor<16x16x1x1xf32>) -> tensor<1x16x3x3xf32>
  return %3 : tensor<1x16x3x3xf32>
}

// -----

// A 1x1 conv with no KxK conv in its region (here, next to a max pool) and a strided 3x3
// conv over an RGB image (27 taps: small_conv computes it directly) stay NCHW: nothing
// changes.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: mlc.transpose
// CHECK-NOT: mlc.conv_nhwc
func.func @kept(%x: tensor<1x16x5x5xf32>, %rgb: tensor<1x3x5x5xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %w1 = "mlc.constant"() {value = dense<0.5> : tensor<2x16x1x1xf32>} : () -> tensor<2x16x1x1xf32>
  %0 = "mlc.conv"(%x, %w1) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x5x5xf32>, tensor<2x16x1x1xf32>) -> tensor<1x2x5x5xf32>
  %1 = "mlc.max_pool"(%0) {dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x5x5xf32>) -> tensor<1x2x2x2xf32>
  %w3 = "mlc.constant"() {value = dense<0.5> : tensor<2x3x3x3xf32>} : () -> tensor<2x3x3x3xf32>
  %2 = "mlc.conv"(%rgb, %w3) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x3x5x5xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x2x2xf32>
  return %1, %2 : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}

// -----

// An RGB stem with more taps than small_conv takes (7x7, 147) or a stride of 1 goes NHWC.
// CHECK-LABEL: func.func @stems
// CHECK: "mlc.transpose"(%arg0) {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x3x16x16xf32>) -> tensor<1x16x16x3xf32>
// CHECK: "mlc.conv_nhwc"({{.*}}) {{.*}} : (tensor<1x16x16x3xf32>, tensor<7x7x3x2xf32>) -> tensor<1x5x5x2xf32>
// CHECK: "mlc.conv_nhwc"({{.*}}) {{.*}} : (tensor<1x16x16x3xf32>, tensor<3x3x3x2xf32>) -> tensor<1x14x14x2xf32>
func.func @stems(%rgb: tensor<1x3x16x16xf32>) -> (tensor<1x2x5x5xf32>, tensor<1x2x14x14xf32>) {
  %w7 = "mlc.constant"() {value = dense<0.5> : tensor<2x3x7x7xf32>} : () -> tensor<2x3x7x7xf32>
  %0 = "mlc.conv"(%rgb, %w7) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x3x16x16xf32>, tensor<2x3x7x7xf32>) -> tensor<1x2x5x5xf32>
  %w3 = "mlc.constant"() {value = dense<0.5> : tensor<2x3x3x3xf32>} : () -> tensor<2x3x3x3xf32>
  %1 = "mlc.conv"(%rgb, %w3) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x16x16xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x14x14xf32>
  return %0, %1 : tensor<1x2x5x5xf32>, tensor<1x2x14x14xf32>
}

// -----

// The HWCF filter is a view of column panels [F/32, KH*KW*C, 32] when F is a multiple of the
// register tile width (32 on AVX-512); F = 48 is padded to two panels, the zero filters
// sliced off the view ([144, 64] -> [144, 48]).
// CHECK-LABEL: func.func @panels
// CHECK: %[[P:.*]] = "mlc.constant"() {value = dense{{.*}} : tensor<2x144x32xf32>}
// CHECK: %[[T:.*]] = "mlc.transpose"(%[[P]]) {perm = array<i64: 1, 0, 2>} : (tensor<2x144x32xf32>) -> tensor<144x2x32xf32>
// CHECK: %[[W:.*]] = "mlc.reshape"(%[[T]]) : (tensor<144x2x32xf32>) -> tensor<3x3x16x64xf32>
// CHECK: "mlc.conv_nhwc"(%{{.*}}, %[[W]])
// CHECK: %[[Q:.*]] = "mlc.constant"() {value = dense{{.*}} : tensor<2x144x32xf32>}
// CHECK: %[[U:.*]] = "mlc.transpose"(%[[Q]]) {perm = array<i64: 1, 0, 2>} : (tensor<2x144x32xf32>) -> tensor<144x2x32xf32>
// CHECK: %[[WIDE:.*]] = "mlc.reshape"(%[[U]]) : (tensor<144x2x32xf32>) -> tensor<144x64xf32>
// CHECK: %[[CUT:.*]] = "mlc.slice"(%[[WIDE]]) {offsets = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<144x64xf32>) -> tensor<144x48xf32>
// CHECK: %[[V:.*]] = "mlc.reshape"(%[[CUT]]) : (tensor<144x48xf32>) -> tensor<3x3x16x48xf32>
// CHECK: "mlc.conv_nhwc"(%{{.*}}, %[[V]])
module attributes {mlc.target = "x86-64-v4"} {
  func.func @panels(%x: tensor<1x16x5x5xf32>) -> (tensor<1x64x3x3xf32>, tensor<1x48x3x3xf32>) {
    %w = "mlc.constant"() {value = dense<0.5> : tensor<64x16x3x3xf32>} : () -> tensor<64x16x3x3xf32>
    %0 = "mlc.conv"(%x, %w) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x5x5xf32>, tensor<64x16x3x3xf32>) -> tensor<1x64x3x3xf32>
    %v = "mlc.constant"() {value = dense<0.5> : tensor<48x16x3x3xf32>} : () -> tensor<48x16x3x3xf32>
    %1 = "mlc.conv"(%x, %v) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x5x5xf32>, tensor<48x16x3x3xf32>) -> tensor<1x48x3x3xf32>
    return %0, %1 : tensor<1x64x3x3xf32>, tensor<1x48x3x3xf32>
  }
}

// -----

// An RGB stem (3 channels, stride 2) in a region with a 3x3 conv goes NHWC with it (an NHWC
// GEMM, where on its own it stays small_conv's NCHW kernel, as in @kept): one transpose of
// the RGB input, one of the result.
// CHECK-LABEL: func.func @stem_in_region
// CHECK: "mlc.transpose"(%arg0) {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x3x12x12xf32>)
// CHECK: "mlc.conv_nhwc"({{.*}}) -> tensor<1x5x5x16xf32>
// CHECK: "mlc.max_pool_nhwc"
// CHECK: "mlc.conv_nhwc"({{.*}}) -> tensor<1x2x2x16xf32>
// CHECK: "mlc.transpose"(%{{.*}}) {perm = array<i64: 0, 3, 1, 2>}
// CHECK-NOT: mlc.transpose
func.func @stem_in_region(%rgb: tensor<1x3x12x12xf32>) -> tensor<1x16x2x2xf32> {
  %ws = "mlc.constant"() {value = dense<0.5> : tensor<16x3x3x3xf32>} : () -> tensor<16x3x3x3xf32>
  %w3 = "mlc.constant"() {value = dense<0.25> : tensor<16x16x3x3xf32>} : () -> tensor<16x16x3x3xf32>
  %0 = "mlc.conv"(%rgb, %ws) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x3x12x12xf32>, tensor<16x3x3x3xf32>) -> tensor<1x16x5x5xf32>
  %1 = "mlc.relu"(%0) : (tensor<1x16x5x5xf32>) -> tensor<1x16x5x5xf32>
  %2 = "mlc.max_pool"(%1) {dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x5x5xf32>) -> tensor<1x16x4x4xf32>
  %3 = "mlc.conv"(%2, %w3) {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x4x4xf32>, tensor<16x16x3x3xf32>) -> tensor<1x16x2x2xf32>
  return %3 : tensor<1x16x2x2xf32>
}
