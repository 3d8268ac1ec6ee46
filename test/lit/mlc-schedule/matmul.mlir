// RUN: mlc opt %s -p mlc-schedule --split-input-file | FileCheck %s

// An f32 matmul becomes loops around a register tile: vector.contract accumulating in a
// vector carried by the reduction loop; the decision is recorded on the module.
// CHECK: module attributes {{{.*}}mlc.schedule = {k1 = "reg {{.*}}"
// CHECK-LABEL: func.func @f32_matmul
// CHECK-NOT: linalg.matmul
// CHECK: scf.for {{.*}} -> (vector<{{[0-9]+}}x16xf32>)
// CHECK: vector.contract
// CHECK: return
module attributes {mlc.target = "x86-64-v3"} {
  func.func @f32_matmul(%a: tensor<16x32xf32>, %b: tensor<32x64xf32>) -> tensor<16x64xf32> {
    %zero = arith.constant 0.0 : f32
    %init = tensor.empty() : tensor<16x64xf32>
    %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<16x64xf32>) -> tensor<16x64xf32>
    %0 = linalg.matmul ins(%a, %b : tensor<16x32xf32>, tensor<32x64xf32>) outs(%acc : tensor<16x64xf32>) -> tensor<16x64xf32>
    return %0 : tensor<16x64xf32>
  }
}

// -----

// What the pass does not schedule stays as it was, with the reason recorded.
// CHECK: mlc.schedule = {{{.*}}naive: not a static f32 matmul
// CHECK-LABEL: func.func @i32_matmul
// CHECK: linalg.matmul
module attributes {mlc.target = "x86-64-v3"} {
  func.func @i32_matmul(%a: tensor<4x8xi32>, %b: tensor<8x4xi32>, %acc: tensor<4x4xi32>) -> tensor<4x4xi32> {
    %0 = linalg.matmul ins(%a, %b : tensor<4x8xi32>, tensor<8x4xi32>) outs(%acc : tensor<4x4xi32>) -> tensor<4x4xi32>
    return %0 : tensor<4x4xi32>
  }
}

// -----

// An NHWC conv between the layout's edges (`mlc-nhwc-layout`): the input transposed to
// NHWC, one copy per tap into col[OH*OW, KH*KW*C], a register-tiled matmul against the HWCF
// constant, and the output transposed back to NCHW. Both layout transposes run as 2-D
// transposes in square tiles transposed in registers (8x8 with AVX2), whole vectors first:
// 36 pixels are 32 and 4 on the way in, 16 output pixels one block on the way out.
// CHECK: k14 = "elementwise linalg.generic tile 8x8"
// CHECK-SAME: k3 = "elementwise linalg.generic tile 8x8", k4 = "elementwise linalg.generic tile 1x16"
// CHECK-LABEL: func.func @nhwc_conv
// CHECK-NOT: linalg.conv_2d_nhwc_hwcf
// CHECK-NOT: linalg.transpose
// CHECK: vector.shuffle
// CHECK: vector.contract
// CHECK: vector.shuffle
// CHECK: return
module attributes {mlc.target = "x86-64-v3"} {
  func.func @nhwc_conv(%x: tensor<1x16x6x6xf32>, %init: tensor<1x4x4x8xf32>) -> tensor<1x8x4x4xf32> {
    %hwcf = arith.constant dense<0.5> : tensor<3x3x16x8xf32>
    %e0 = tensor.empty() : tensor<1x6x6x16xf32>
    %xt = linalg.transpose ins(%x : tensor<1x16x6x6xf32>) outs(%e0 : tensor<1x6x6x16xf32>) permutation = [0, 2, 3, 1]
    %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%xt, %hwcf : tensor<1x6x6x16xf32>, tensor<3x3x16x8xf32>) outs(%init : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
    %e1 = tensor.empty() : tensor<1x8x4x4xf32>
    %y = linalg.transpose ins(%0 : tensor<1x4x4x8xf32>) outs(%e1 : tensor<1x8x4x4xf32>) permutation = [0, 3, 1, 2]
    return %y : tensor<1x8x4x4xf32>
  }
}

// -----

// A Flatten folded into a Gemm by reshape propagation: a generic C[m, n] += A[m, c, h, w] *
// B[c, h, w, n] is a matmul again (collapsed operands), and scheduled as one.
// CHECK-LABEL: func.func @flatten_gemm
// CHECK-NOT: linalg.generic
// CHECK: tensor.collapse_shape %arg0 {{\[}}[0], [1, 2, 3]] : tensor<1x8x2x2xf32> into tensor<1x32xf32>
// CHECK: vector.contract
#a = affine_map<(m, n, c, h, w) -> (m, c, h, w)>
#b = affine_map<(m, n, c, h, w) -> (c, h, w, n)>
#c = affine_map<(m, n, c, h, w) -> (m, n)>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @flatten_gemm(%a: tensor<1x8x2x2xf32>, %b: tensor<8x2x2x64xf32>, %init: tensor<1x64xf32>) -> tensor<1x64xf32> {
    %0 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%a, %b : tensor<1x8x2x2xf32>, tensor<8x2x2x64xf32>) outs(%init : tensor<1x64xf32>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    } -> tensor<1x64xf32>
    return %0 : tensor<1x64xf32>
  }
}

// -----

// A 3x3 stride-2 max pool is a row pass (three maxima over whole, contiguous input rows) and
// a column pass over those rows, one column short, read as [OW, 2] column pairs (offsets 0
// and 2) so no read is strided; no pooling op is left (more in pooling.mlir).
// CHECK-LABEL: func.func @max_pool
// CHECK-NOT: linalg.pooling_nchw_max
// CHECK-COUNT-3: tensor.extract_slice {{.*}} [1, 2, 1] : tensor<4x9x9xf32> to tensor<4x4x9xf32>
// CHECK: tensor.extract_slice {{.*}}[0, 0, 0] [4, 4, 8] [1, 1, 1] : tensor<4x4x10xf32> to tensor<4x4x8xf32>
// CHECK: tensor.extract_slice {{.*}}[0, 0, 2] [4, 4, 8] [1, 1, 1] : tensor<4x4x10xf32> to tensor<4x4x8xf32>
// CHECK: return
module attributes {mlc.target = "x86-64-v3"} {
  func.func @max_pool(%x: tensor<1x4x9x9xf32>, %init: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
    %window = tensor.empty() : tensor<3x3xf32>
    %0 = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %window : tensor<1x4x9x9xf32>, tensor<3x3xf32>) outs(%init : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
    return %0 : tensor<1x4x4x4xf32>
  }
}

// -----

// Elementwise fusion pulled a GlobalAveragePool's scaling into the classifier's contraction:
// out + (a * s) * b. The scaling becomes its own elementwise op over A, then a matmul.
// CHECK-LABEL: func.func @scaled_gemm
// CHECK: arith.mulf {{.*}}, %cst
// CHECK-NOT: arith.mulf %{{.*}}, %in_
// CHECK: vector.contract
#a = affine_map<(m, n, c, h, w) -> (m, c, h, w)>
#b = affine_map<(m, n, c, h, w) -> (c, h, w, n)>
#c = affine_map<(m, n, c, h, w) -> (m, n)>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @scaled_gemm(%a: tensor<1x32x1x1xf32>, %b: tensor<32x1x1x64xf32>, %init: tensor<1x64xf32>) -> tensor<1x64xf32> {
    %cst = arith.constant 0.25 : f32
    %0 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%a, %b : tensor<1x32x1x1xf32>, tensor<32x1x1x64xf32>) outs(%init : tensor<1x64xf32>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %s = arith.mulf %x, %cst : f32
      %p = arith.mulf %s, %y : f32
      %r = arith.addf %acc, %p : f32
      linalg.yield %r : f32
    } -> tensor<1x64xf32>
    return %0 : tensor<1x64xf32>
  }
}

// -----

// The output pass of a wide-row NHWC conv (which drops the wrapped columns) absorbs its
// only elementwise consumer (a ReLU here): the result is written once, as
// relu(init + GEMM).
// CHECK-LABEL: func.func @nhwc_conv_relu
// CHECK: vector.contract
// CHECK: arith.addf
// CHECK-NEXT: arith.maximumf
// CHECK-NOT: arith.maximumf
// CHECK: return
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @nhwc_conv_relu(%x: tensor<1x10x10x16xf32>, %init: tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
    %hwcf = arith.constant dense<0.5> : tensor<3x3x16x8xf32>
    %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %hwcf : tensor<1x10x10x16xf32>, tensor<3x3x16x8xf32>) outs(%init : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
    %zero = arith.constant 0.0 : f32
    %out = tensor.empty() : tensor<1x8x8x8xf32>
    %1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%0 : tensor<1x8x8x8xf32>) outs(%out : tensor<1x8x8x8xf32>) {
    ^bb0(%v: f32, %o: f32):
      %r = arith.maximumf %v, %zero : f32
      linalg.yield %r : f32
    } -> tensor<1x8x8x8xf32>
    return %1 : tensor<1x8x8x8xf32>
  }
}

// -----

// Attention's product with V after softmax: the division by the row sums (a second input,
// over the batch and M dims) was fused into the contraction. It becomes its own elementwise op,
// then one matmul per (batch, head) entry.
// CHECK-LABEL: func.func @attention_pv
// CHECK: arith.divf
// CHECK-COUNT-2: vector.contract
// CHECK-NOT: linalg.generic {{.*}}reduction
#p = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#s = affine_map<(b, h, m, n, k) -> (b, h, m)>
#v = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#o = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @attention_pv(%p: tensor<1x2x8x8xf32>, %sum: tensor<1x2x8xf32>, %v: tensor<1x2x8x16xf32>, %init: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
    %0 = linalg.generic {indexing_maps = [#p, #s, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %sum, %v : tensor<1x2x8x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8x16xf32>) outs(%init : tensor<1x2x8x16xf32>) {
    ^bb0(%x: f32, %s: f32, %y: f32, %acc: f32):
      %q = arith.divf %x, %s : f32
      %m = arith.mulf %q, %y : f32
      %r = arith.addf %acc, %m : f32
      linalg.yield %r : f32
    } -> tensor<1x2x8x16xf32>
    return %0 : tensor<1x2x8x16xf32>
  }
}

// -----

// Attention's Q K^T with both factors scaled (by 1/sqrt(sqrt(d)) each): each scaling becomes
// an elementwise op over its own operand, and neither takes the other's.
// CHECK-LABEL: func.func @scaled_qk
// CHECK-COUNT-2: arith.mulf {{.*}}, %cst
// CHECK-COUNT-2: vector.contract
#q = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#k = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#o = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @scaled_qk(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x16x8xf32>, %init: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
    %cst = arith.constant 0.5 : f32
    %0 = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x8x8xf32>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %sy = arith.mulf %y, %cst : f32
      %sx = arith.mulf %x, %cst : f32
      %p = arith.mulf %sx, %sy : f32
      %r = arith.addf %acc, %p : f32
      linalg.yield %r : f32
    } -> tensor<1x2x8x8xf32>
    return %0 : tensor<1x2x8x8xf32>
  }
}

// -----

// A B stored as column panels (mlc-pack-matmul-weights) is read from the panels by the
// hand-built panel kernel: 6x16 register tiles (AVX2) whose accumulators start from the fill's
// zero in registers, one fma per accumulator and k, and one store of the whole tile; the
// transpose viewing the panels as [K, N] and the fill are gone. 20 rows are four tiles of 6,
// the last one moved back to end at row 20 (rows 14..20, two of them computed twice), so
// that one loop body serves them all.
// CHECK: k1 = "panel GEMM reg 6x16, cache m0 k0"
// CHECK-LABEL: func.func @panels
// CHECK-NOT: linalg.transpose
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.matmul
// CHECK: scf.for %[[T:.*]] = {{.*}} step %c6
// CHECK: %[[ROW:.*]] = arith.minui %[[T]], %c14
// CHECK: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-12: math.fma
// CHECK: vector.transfer_write %{{.*}}[%[[ROW]], %{{.*}}] {{.*}} : vector<6x16xf32>, tensor<20x64xf32>
// CHECK-NOT: math.fma
// CHECK: return
module attributes {mlc.target = "x86-64-v3"} {
  func.func @panels(%a: tensor<20x32xf32>) -> tensor<20x64xf32> {
    %zero = arith.constant 0.0 : f32
    %panels = arith.constant dense<0.5> : tensor<4x32x16xf32>
    %empty = tensor.empty() : tensor<32x4x16xf32>
    %rows = linalg.transpose ins(%panels : tensor<4x32x16xf32>) outs(%empty : tensor<32x4x16xf32>) permutation = [1, 0, 2]
    %b = tensor.collapse_shape %rows [[0], [1, 2]] : tensor<32x4x16xf32> into tensor<32x64xf32>
    %init = tensor.empty() : tensor<20x64xf32>
    %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<20x64xf32>) -> tensor<20x64xf32>
    %0 = linalg.matmul ins(%a, %b : tensor<20x32xf32>, tensor<32x64xf32>) outs(%acc : tensor<20x64xf32>) -> tensor<20x64xf32>
    return %0 : tensor<20x64xf32>
  }
}

// -----

// The second of two chained matmuls on panels, as linalg-fuse-elementwise-ops leaves it: reshape
// propagation spread its K (32) over two dims (4 x 8), so its B is the panels with K split
// (an expand_shape) and transposed by [1, 2, 0, 3]. They are the same panels: the panel
// kernel reads them, and nothing copies them.
// CHECK: k1 = "panel GEMM reg 6x16, cache m0 k0"
// CHECK-LABEL: func.func @split_k_panels
// CHECK-NOT: linalg.transpose
// CHECK-NOT: linalg.generic
// CHECK: math.fma
// CHECK: return
module attributes {mlc.target = "x86-64-v3"} {
  func.func @split_k_panels(%a: tensor<20x4x8xf32>) -> tensor<20x64xf32> {
    %zero = arith.constant 0.0 : f32
    %panels = arith.constant dense<0.5> : tensor<4x32x16xf32>
    %split = tensor.expand_shape %panels [[0], [1, 2], [3]] output_shape [4, 4, 8, 16] : tensor<4x32x16xf32> into tensor<4x4x8x16xf32>
    %empty = tensor.empty() : tensor<4x8x4x16xf32>
    %b = linalg.transpose ins(%split : tensor<4x4x8x16xf32>) outs(%empty : tensor<4x8x4x16xf32>) permutation = [1, 2, 0, 3]
    %init = tensor.empty() : tensor<20x4x16xf32>
    %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<20x4x16xf32>) -> tensor<20x4x16xf32>
    %0 = linalg.generic {indexing_maps = [affine_map<(m, j, r, k1, k2) -> (m, k1, k2)>, affine_map<(m, j, r, k1, k2) -> (k1, k2, j, r)>, affine_map<(m, j, r, k1, k2) -> (m, j, r)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%a, %b : tensor<20x4x8xf32>, tensor<4x8x4x16xf32>) outs(%acc : tensor<20x4x16xf32>) {
    ^bb0(%x: f32, %y: f32, %out: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %out, %p : f32
      linalg.yield %s : f32
    } -> tensor<20x4x16xf32>
    %c = tensor.collapse_shape %0 [[0], [1, 2]] : tensor<20x4x16xf32> into tensor<20x64xf32>
    return %c : tensor<20x64xf32>
  }
}

// -----

// On AVX-512 a register tile spans two panels side by side: 6 rows x 64 columns, 24
// accumulators fed per k by four contiguous loads (two from each panel) and six broadcasts.
// A third, odd panel ends the row block in a tile one panel wide (12 accumulators).
// CHECK: k1 = "panel GEMM reg 6x64, cache m0 k0"
// CHECK-LABEL: func.func @paired_panels
// CHECK: scf.for {{.*}} -> ({{((vector<16xf32>, ){23})}}vector<16xf32>)
// CHECK-COUNT-4: vector.transfer_read {{.*}} : tensor<3x32x32xf32>, vector<16xf32>
// CHECK-COUNT-24: math.fma
// CHECK: scf.for {{.*}} -> ({{((vector<16xf32>, ){11})}}vector<16xf32>)
// CHECK-COUNT-2: vector.transfer_read {{.*}} : tensor<3x32x32xf32>, vector<16xf32>
// CHECK-COUNT-12: math.fma
// CHECK: return
module attributes {mlc.target = "x86-64-v4"} {
  func.func @paired_panels(%a: tensor<12x32xf32>) -> tensor<12x96xf32> {
    %zero = arith.constant 0.0 : f32
    %panels = arith.constant dense<0.5> : tensor<3x32x32xf32>
    %empty = tensor.empty() : tensor<32x3x32xf32>
    %rows = linalg.transpose ins(%panels : tensor<3x32x32xf32>) outs(%empty : tensor<32x3x32xf32>) permutation = [1, 0, 2]
    %b = tensor.collapse_shape %rows [[0], [1, 2]] : tensor<32x3x32xf32> into tensor<32x96xf32>
    %init = tensor.empty() : tensor<12x96xf32>
    %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<12x96xf32>) -> tensor<12x96xf32>
    %0 = linalg.matmul ins(%a, %b : tensor<12x32xf32>, tensor<32x96xf32>) outs(%acc : tensor<12x96xf32>) -> tensor<12x96xf32>
    return %0 : tensor<12x96xf32>
  }
}
