// RUN: mlc opt %s -p mlc-schedule --split-input-file | FileCheck %s

// An NCHW ReLU over 14x14 images: its rows (14 floats) are not whole vectors, and every
// operand is read with the identity map, so it runs flattened, on rows of 224 (14 vectors).
// CHECK: mlc.schedule = {k1 = "elementwise linalg.generic flat tile 224"
// CHECK-LABEL: func.func @relu_14x14
// CHECK: tensor.collapse_shape {{.*}} into tensor<1568xf32>
// CHECK: arith.maximumf {{.*}} : vector<224xf32>
// CHECK: tensor.expand_shape {{.*}} into tensor<1x8x14x14xf32>
#id = affine_map<(a, b, c, d) -> (a, b, c, d)>
module attributes {mlc.target = "x86-64-v4"} {
  func.func @relu_14x14(%x: tensor<1x8x14x14xf32>, %init: tensor<1x8x14x14xf32>) -> tensor<1x8x14x14xf32> {
    %zero = arith.constant 0.0 : f32
    %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x8x14x14xf32>) outs(%init : tensor<1x8x14x14xf32>) {
    ^bb0(%in: f32, %out: f32):
      %r = arith.maximumf %in, %zero : f32
      linalg.yield %r : f32
    } -> tensor<1x8x14x14xf32>
    return %0 : tensor<1x8x14x14xf32>
  }
}

// -----

// A bias added per channel reads one operand with a broadcast map: not flattened.
// CHECK: mlc.schedule = {k1 = "elementwise linalg.generic tile 1x1x1x14"
// CHECK-LABEL: func.func @bias_14x14
// CHECK-NOT: tensor.collapse_shape
// CHECK: return
#id = affine_map<(a, b, c, d) -> (a, b, c, d)>
#ch = affine_map<(a, b, c, d) -> (b)>
module attributes {mlc.target = "x86-64-v4"} {
  func.func @bias_14x14(%x: tensor<1x8x14x14xf32>, %b: tensor<8xf32>, %init: tensor<1x8x14x14xf32>) -> tensor<1x8x14x14xf32> {
    %0 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %b : tensor<1x8x14x14xf32>, tensor<8xf32>) outs(%init : tensor<1x8x14x14xf32>) {
    ^bb0(%in: f32, %c: f32, %out: f32):
      %r = arith.addf %in, %c : f32
      linalg.yield %r : f32
    } -> tensor<1x8x14x14xf32>
    return %0 : tensor<1x8x14x14xf32>
  }
}

// -----

// A slice of a larger tensor may not be contiguous (collapsing it would copy): not flattened.
// CHECK: mlc.schedule = {k1 = "elementwise linalg.generic tile 1x1x1x14"
// CHECK-LABEL: func.func @relu_of_slice
// CHECK-NOT: tensor.collapse_shape
// CHECK: return
#id = affine_map<(a, b, c, d) -> (a, b, c, d)>
module attributes {mlc.target = "x86-64-v4"} {
  func.func @relu_of_slice(%big: tensor<1x8x14x28xf32>, %init: tensor<1x8x14x14xf32>) -> tensor<1x8x14x14xf32> {
    %zero = arith.constant 0.0 : f32
    %x = tensor.extract_slice %big[0, 0, 0, 0] [1, 8, 14, 14] [1, 1, 1, 1] : tensor<1x8x14x28xf32> to tensor<1x8x14x14xf32>
    %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x8x14x14xf32>) outs(%init : tensor<1x8x14x14xf32>) {
    ^bb0(%in: f32, %out: f32):
      %r = arith.maximumf %in, %zero : f32
      linalg.yield %r : f32
    } -> tensor<1x8x14x14xf32>
    return %0 : tensor<1x8x14x14xf32>
  }
}
