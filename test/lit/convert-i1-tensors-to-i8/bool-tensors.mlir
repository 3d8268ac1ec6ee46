// RUN: mlc opt %s -p convert-i1-tensors-to-i8 --split-input-file | FileCheck %s

// A bool result is stored as bytes: the comparison stays i1 inside the body and is widened
// where it is yielded; the signature carries i8.
// CHECK-LABEL: func.func @compare(%{{[a-z0-9_]+}}: tensor<4xf32>) -> tensor<4xi8>
// CHECK: linalg.generic
// CHECK: %[[B:.*]] = arith.cmpf olt
// CHECK: %[[W:.*]] = arith.extui %[[B]] : i1 to i8
// CHECK: linalg.yield %[[W]] : i8
// CHECK-NOT: xi1>
func.func @compare(%a: tensor<4xf32>) -> tensor<4xi1> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4xi1>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]} ins(%a : tensor<4xf32>) outs(%init : tensor<4xi1>) {
  ^bb0(%x: f32, %o: i1):
    %c = arith.cmpf olt, %x, %zero : f32
    linalg.yield %c : i1
  } -> tensor<4xi1>
  return %r : tensor<4xi1>
}

// -----

// A bool operand is read as a byte and compared with 0 before its scalar use; bool constants
// become byte constants.
// CHECK-LABEL: func.func @select(%{{[a-z0-9_]+}}: tensor<4xi8>, %{{[a-z0-9_]+}}: tensor<4xf32>)
// CHECK: arith.constant dense<[1, 0, 1, 0]> : tensor<4xi8>
// CHECK: ^bb0(%[[CB:[a-z0-9_]+]]: i8, %{{[a-z0-9_]+}}: i8, %{{[a-z0-9_]+}}: f32, %{{[a-z0-9_]+}}: f32)
// CHECK: %[[T:.*]] = arith.cmpi ne, %[[CB]],
// CHECK: arith.andi %[[T]]
func.func @select(%c: tensor<4xi1>, %a: tensor<4xf32>) -> tensor<4xf32> {
  %k = arith.constant dense<[true, false, true, false]> : tensor<4xi1>
  %init = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>,
                                        affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%c, %k, %a : tensor<4xi1>, tensor<4xi1>, tensor<4xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%x: i1, %y: i1, %v: f32, %o: f32):
    %both = arith.andi %x, %y : i1
    %s = arith.select %both, %v, %o : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
