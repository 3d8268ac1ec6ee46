// RUN: mlc opt %s -p mlc-schedule --split-input-file | FileCheck %s

// A matmul whose only user is elementwise (a per-column bias and a ReLU) ends in that op on
// its register tile: the accumulators start as zeros in registers (no fill pass), leave the
// k loop, get the bias and the max, and are written once. Odd sizes (20x72) are pieces, each
// with its own epilogue.
// CHECK: mlc.fusion = {"epilogue of {{.*}}" = "linalg.generic fused as the GEMM epilogue
// CHECK-SAME: mlc.schedule = {k1 = "reg {{.*}}, epilogue on the accumulators (initialized in registers)"
// CHECK-LABEL: func.func @matmul_bias_relu
// CHECK-NOT: linalg.
// CHECK: %[[ACC:.*]] = scf.for {{.*}} -> (vector<{{[0-9]+}}x16xf32>)
// CHECK: vector.contract
// CHECK: %[[SUM:.*]] = arith.addf %[[ACC]], {{.*}} : vector<{{[0-9]+}}x16xf32>
// CHECK: arith.maximumf %[[SUM]]
// CHECK-NOT: linalg.generic
// CHECK: return
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @matmul_bias_relu(%a: tensor<20x64xf32>, %b: tensor<64x72xf32>, %bias: tensor<72xf32>) -> tensor<20x72xf32> {
    %zero = arith.constant 0.0 : f32
    %init = tensor.empty() : tensor<20x72xf32>
    %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<20x72xf32>) -> tensor<20x72xf32>
    %0 = linalg.matmul ins(%a, %b : tensor<20x64xf32>, tensor<64x72xf32>) outs(%acc : tensor<20x72xf32>) -> tensor<20x72xf32>
    %e = tensor.empty() : tensor<20x72xf32>
    %1 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%0, %bias : tensor<20x72xf32>, tensor<72xf32>) outs(%e : tensor<20x72xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %s = arith.addf %x, %y : f32
      %r = arith.maximumf %s, %zero : f32
      linalg.yield %r : f32
    } -> tensor<20x72xf32>
    return %1 : tensor<20x72xf32>
  }
}

// -----

// A 1x1 conv on the NCHW path (its filter is not a constant) followed by a residual add
// and a ReLU: the add reads the residual tile beside the accumulators.
// CHECK: "epilogue of {{.*}}" = "linalg.generic fused as the GEMM epilogue
// CHECK-LABEL: func.func @conv1x1_residual_relu
// CHECK-NOT: linalg.generic
// CHECK: %[[ACC:.*]] = scf.for {{.*}} -> (vector<{{[0-9]+}}x16xf32>)
// CHECK: vector.contract
// CHECK: %[[RES:.*]] = vector.transfer_read
// CHECK: %[[SUM:.*]] = arith.addf %[[ACC]], %[[RES]]
// CHECK: arith.maximumf %[[SUM]]
// CHECK-NOT: linalg.generic
// CHECK: return
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module attributes {mlc.target = "x86-64-v3"} {
  func.func @conv1x1_residual_relu(%x: tensor<1x32x7x7xf32>, %w: tensor<16x32x1x1xf32>, %r: tensor<1x16x7x7xf32>) -> tensor<1x16x7x7xf32> {
    %zero = arith.constant 0.0 : f32
    %init = tensor.empty() : tensor<1x16x7x7xf32>
    %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<1x16x7x7xf32>) -> tensor<1x16x7x7xf32>
    %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x32x7x7xf32>, tensor<16x32x1x1xf32>) outs(%acc : tensor<1x16x7x7xf32>) -> tensor<1x16x7x7xf32>
    %e = tensor.empty() : tensor<1x16x7x7xf32>
    %1 = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%0, %r : tensor<1x16x7x7xf32>, tensor<1x16x7x7xf32>) outs(%e : tensor<1x16x7x7xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %s = arith.addf %a, %b : f32
      %m = arith.maximumf %s, %zero : f32
      linalg.yield %m : f32
    } -> tensor<1x16x7x7xf32>
    return %1 : tensor<1x16x7x7xf32>
  }
}
