// RUN: mlc opt %s -p mlc-schedule --split-input-file | FileCheck %s

// A depthwise conv, its per-channel bias and its Clip become one row kernel: per vector of an
// output row (8 lanes on this target; a loop over the row's whole vectors), each of the three
// input rows read once (8 + 2 elements), each tap a shift of it, nine FMAs and the clip in
// registers, one store.
// CHECK-LABEL: func.func @depthwise_clip
// CHECK-NOT: linalg.conv_2d_ngchw_gfchw
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} vector<10xf32>
// CHECK: vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7] : vector<10xf32>
// CHECK: math.fma {{.*}} : vector<8xf32>
// CHECK: vector.shuffle {{.*}} [1, 2, 3, 4, 5, 6, 7, 8] : vector<10xf32>
// CHECK-COUNT-8: math.fma {{.*}} : vector<8xf32>
// CHECK: arith.maximumf {{.*}} : vector<8xf32>
// CHECK: arith.minimumf {{.*}} : vector<8xf32>
// CHECK: vector.transfer_write
module attributes {mlc.target = "x86-64-v3"} {
  func.func @depthwise_clip(%x: tensor<1x8x1x18x18xf32>, %w: tensor<8x1x1x3x3xf32>, %b: tensor<8x1xf32>) -> tensor<1x8x1x16x16xf32> {
    %zero = arith.constant 0.0 : f32
    %six = arith.constant 6.0 : f32
    %e = tensor.empty() : tensor<1x8x1x16x16xf32>
    %bias = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d1, d2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%b : tensor<8x1xf32>) outs(%e : tensor<1x8x1x16x16xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x8x1x16x16xf32>
    %conv = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x1x18x18xf32>, tensor<8x1x1x3x3xf32>) outs(%bias : tensor<1x8x1x16x16xf32>) -> tensor<1x8x1x16x16xf32>
    %clip = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%conv : tensor<1x8x1x16x16xf32>) outs(%e : tensor<1x8x1x16x16xf32>) {
    ^bb0(%in: f32, %out: f32):
      %0 = arith.maximumf %in, %zero : f32
      %1 = arith.minimumf %0, %six : f32
      linalg.yield %1 : f32
    } -> tensor<1x8x1x16x16xf32>
    return %clip : tensor<1x8x1x16x16xf32>
  }
}

// -----

// A width stride of 2: per output row and filter row, one unit-stride read of the input row
// (2*8 + 2 elements, past the edge masked) and one shuffle per tap picks its columns.
// CHECK-LABEL: func.func @depthwise_stride_2
// CHECK-NOT: linalg.conv_2d_ngchw_gfchw
// CHECK: scf.for
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} vector<18xf32>
// CHECK: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14] : vector<18xf32>
// CHECK: math.fma {{.*}} : vector<8xf32>
// CHECK: vector.shuffle {{.*}} [1, 3, 5, 7, 9, 11, 13, 15] : vector<18xf32>
// CHECK: vector.shuffle {{.*}} [2, 4, 6, 8, 10, 12, 14, 16] : vector<18xf32>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @depthwise_stride_2(%x: tensor<1x8x1x17x17xf32>, %w: tensor<8x1x1x3x3xf32>, %init: tensor<1x8x1x8x8xf32>) -> tensor<1x8x1x8x8xf32> {
    %conv = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<1x8x1x17x17xf32>, tensor<8x1x1x3x3xf32>) outs(%init : tensor<1x8x1x8x8xf32>) -> tensor<1x8x1x8x8xf32>
    return %conv : tensor<1x8x1x8x8xf32>
  }
}

// -----

// A consumer that reads another tensor (a residual add) cannot run on the row kernel's
// registers: the input is split once into its even and odd columns (one 16-wide load, two
// shuffles per 8 outputs of a row), and the fused elementwise kernel reads each tap from a
// phase at unit stride.
// CHECK-LABEL: func.func @depthwise_stride_2_add
// CHECK: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14] : vector<16xf32>
// CHECK: vector.shuffle {{.*}} [1, 3, 5, 7, 9, 11, 13, 15] : vector<16xf32>
// CHECK-NOT: linalg.conv_2d_ngchw_gfchw
// CHECK-COUNT-9: math.fma {{.*}} : vector<8xf32>
// CHECK: arith.addf {{.*}} : vector<8xf32>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @depthwise_stride_2_add(%x: tensor<1x8x1x17x17xf32>, %w: tensor<8x1x1x3x3xf32>, %init: tensor<1x8x1x8x8xf32>, %r: tensor<1x8x1x8x8xf32>) -> tensor<1x8x1x8x8xf32> {
    %conv = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<1x8x1x17x17xf32>, tensor<8x1x1x3x3xf32>) outs(%init : tensor<1x8x1x8x8xf32>) -> tensor<1x8x1x8x8xf32>
    %e = tensor.empty() : tensor<1x8x1x8x8xf32>
    %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%conv, %r : tensor<1x8x1x8x8xf32>, tensor<1x8x1x8x8xf32>) outs(%e : tensor<1x8x1x8x8xf32>) {
    ^bb0(%a: f32, %b: f32, %out: f32):
      %0 = arith.addf %a, %b : f32
      linalg.yield %0 : f32
    } -> tensor<1x8x1x8x8xf32>
    return %sum : tensor<1x8x1x8x8xf32>
  }
}

// -----

// A zero-padded input is never built: the kernel reads the unpadded tensor. The first and
// last output rows are unrolled with the kernel rows that fall inside it (two of three);
// the first vector of a row reads 9 columns and shifts in the padding zero; rows 1..14
// form the loop.
// CHECK-LABEL: func.func @depthwise_padded
// CHECK-NOT: linalg.fill
// CHECK-NOT: tensor.insert_slice
// CHECK: vector.transfer_read {{.*}} vector<9xf32>
// CHECK: vector.shuffle {{.*}} : vector<1xf32>, vector<9xf32>
// CHECK: vector.transfer_read {{.*}} vector<9xf32>
// CHECK: vector.shuffle {{.*}} : vector<1xf32>, vector<9xf32>
// CHECK-NOT: vector.transfer_read {{.*}} vector<9xf32>
// CHECK: vector.transfer_write
// CHECK: scf.for %{{.*}} = %c1{{.*}} to %c15
module attributes {mlc.target = "x86-64-v3"} {
  func.func @depthwise_padded(%src: tensor<1x8x16x16xf32>, %w: tensor<8x1x1x3x3xf32>, %b: tensor<8x1xf32>) -> tensor<1x8x1x16x16xf32> {
    %zero = arith.constant 0.0 : f32
    %six = arith.constant 6.0 : f32
    %p = tensor.empty() : tensor<1x8x18x18xf32>
    %filled = linalg.fill ins(%zero : f32) outs(%p : tensor<1x8x18x18xf32>) -> tensor<1x8x18x18xf32>
    %padded = tensor.insert_slice %src into %filled[0, 0, 1, 1] [1, 8, 16, 16] [1, 1, 1, 1] : tensor<1x8x16x16xf32> into tensor<1x8x18x18xf32>
    %x = tensor.expand_shape %padded [[0], [1, 2], [3], [4]] output_shape [1, 8, 1, 18, 18] : tensor<1x8x18x18xf32> into tensor<1x8x1x18x18xf32>
    %e = tensor.empty() : tensor<1x8x1x16x16xf32>
    %bias = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d1, d2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%b : tensor<8x1xf32>) outs(%e : tensor<1x8x1x16x16xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x8x1x16x16xf32>
    %conv = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x1x18x18xf32>, tensor<8x1x1x3x3xf32>) outs(%bias : tensor<1x8x1x16x16xf32>) -> tensor<1x8x1x16x16xf32>
    %clip = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%conv : tensor<1x8x1x16x16xf32>) outs(%e : tensor<1x8x1x16x16xf32>) {
    ^bb0(%in: f32, %out: f32):
      %0 = arith.maximumf %in, %zero : f32
      %1 = arith.minimumf %0, %six : f32
      linalg.yield %1 : f32
    } -> tensor<1x8x1x16x16xf32>
    return %clip : tensor<1x8x1x16x16xf32>
  }
}
