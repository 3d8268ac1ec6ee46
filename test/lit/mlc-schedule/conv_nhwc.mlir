// RUN: mlc opt %s -p mlc-schedule --split-input-file | FileCheck %s

// A stride-1 3x3 conv on an NHWC image with its filter in column panels: the panel kernel
// gathers its rows from the padded input in place, flat [10*10*16]: output pixel p = (y, x)
// = divmod(p, 8) starts at (y*10 + x)*16, and a loop over the 3 kernel rows carrying the
// accumulators runs each row's 3 taps as one contiguous run of 3*16 channels. The
// accumulators start from the bias vector; no transposes, no im2col, no output pass.
// CHECK-LABEL: func.func @gathered
// CHECK-NOT: linalg.transpose
// CHECK: tensor.collapse_shape {{.*}} : tensor<1x10x10x16xf32> into tensor<1600xf32>
// CHECK: vector.transfer_read %arg1
// CHECK: arith.divui %{{.*}}, %c8
// CHECK: arith.remui %{{.*}}, %c8
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c48 step %c1
// CHECK: math.fma
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.transpose
// CHECK: return
module attributes {mlc.target = "x86-64-v3"} {
  func.func @gathered(%x: tensor<1x8x8x16xf32>, %bias: tensor<16xf32>) -> tensor<1x8x8x16xf32> {
    %zero = arith.constant 0.0 : f32
    %panels = arith.constant dense<0.5> : tensor<1x144x16xf32>
    %pe = tensor.empty() : tensor<144x1x16xf32>
    %rows = linalg.transpose ins(%panels : tensor<1x144x16xf32>) outs(%pe : tensor<144x1x16xf32>) permutation = [1, 0, 2]
    %flat = tensor.collapse_shape %rows [[0, 1, 2]] : tensor<144x1x16xf32> into tensor<2304xf32>
    %w = tensor.expand_shape %flat [[0, 1, 2, 3]] output_shape [3, 3, 16, 16] : tensor<2304xf32> into tensor<3x3x16x16xf32>
    %pad0 = tensor.empty() : tensor<1x10x10x16xf32>
    %pad1 = linalg.fill ins(%zero : f32) outs(%pad0 : tensor<1x10x10x16xf32>) -> tensor<1x10x10x16xf32>
    %xp = tensor.insert_slice %x into %pad1[0, 1, 1, 0] [1, 8, 8, 16] [1, 1, 1, 1] : tensor<1x8x8x16xf32> into tensor<1x10x10x16xf32>
    %e = tensor.empty() : tensor<1x8x8x16xf32>
    %init = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%bias : tensor<16xf32>) outs(%e : tensor<1x8x8x16xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x8x8x16xf32>
    %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%xp, %w : tensor<1x10x10x16xf32>, tensor<3x3x16x16xf32>) outs(%init : tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32>
    return %0 : tensor<1x8x8x16xf32>
  }
}

// -----

// A 1x1 NHWC conv is a GEMM on the image as it lies ([64, 16] rows of channels) with its
// ReLU as the panel kernel's epilogue: the accumulators start from the bias (one vector per
// column), the max is taken in registers, and the ReLU's output is the only store.
// CHECK-LABEL: func.func @pointwise
// CHECK: tensor.collapse_shape %arg0 {{.*}} into tensor<64x16xf32>
// CHECK: vector.transfer_read %arg1
// CHECK: math.fma
// CHECK: arith.maximumf {{.*}} : vector<8xf32>
// CHECK-NOT: linalg.generic
module attributes {mlc.target = "x86-64-v3"} {
  func.func @pointwise(%x: tensor<1x8x8x16xf32>, %bias: tensor<16xf32>) -> tensor<1x8x8x16xf32> {
    %zero = arith.constant 0.0 : f32
    %panels = arith.constant dense<0.5> : tensor<1x16x16xf32>
    %pe = tensor.empty() : tensor<16x1x16xf32>
    %rows = linalg.transpose ins(%panels : tensor<1x16x16xf32>) outs(%pe : tensor<16x1x16xf32>) permutation = [1, 0, 2]
    %flat = tensor.collapse_shape %rows [[0, 1, 2]] : tensor<16x1x16xf32> into tensor<256xf32>
    %w = tensor.expand_shape %flat [[0, 1, 2, 3]] output_shape [1, 1, 16, 16] : tensor<256xf32> into tensor<1x1x16x16xf32>
    %e = tensor.empty() : tensor<1x8x8x16xf32>
    %init = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%bias : tensor<16xf32>) outs(%e : tensor<1x8x8x16xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x8x8x16xf32>
    %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x8x16xf32>, tensor<1x1x16x16xf32>) outs(%init : tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32>
    %e2 = tensor.empty() : tensor<1x8x8x16xf32>
    %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%0 : tensor<1x8x8x16xf32>) outs(%e2 : tensor<1x8x8x16xf32>) {
    ^bb0(%in: f32, %out: f32):
      %m = arith.maximumf %in, %zero : f32
      linalg.yield %m : f32
    } -> tensor<1x8x8x16xf32>
    return %1 : tensor<1x8x8x16xf32>
  }
}
