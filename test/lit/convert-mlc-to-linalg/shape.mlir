// RUN: mlc opt %s -p convert-mlc-to-linalg --split-input-file | FileCheck %s

// Dynamic dims are read with tensor.dim, static ones are constants.
// CHECK-LABEL: func.func @shape_of
// CHECK: %[[D:.*]] = tensor.dim %arg0, %c1 : tensor<4x?x8xf32>
// CHECK: %[[S:.*]] = arith.index_cast %[[D]] : index to i64
// CHECK: tensor.from_elements %[[S]], %{{.*}} : tensor<2xi64>
func.func @shape_of(%x: tensor<4x?x8xf32>) -> tensor<2xi64> {
  %0 = "mlc.shape_of"(%x) {start = 1 : i64} : (tensor<4x?x8xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// A run-time shape splits one dynamic dim into two: 0 and -1 are resolved with selects, and
// tensor.reshape takes the sizes as a shape tensor.
// CHECK-LABEL: func.func @dynamic_reshape
// CHECK: tensor.extract %arg1
// CHECK: arith.select
// CHECK: %[[SHAPE:.*]] = tensor.from_elements %{{.*}} : tensor<3xindex>
// CHECK: tensor.reshape %arg0(%[[SHAPE]]) : (tensor<?x8xf32>, tensor<3xindex>) -> tensor<?x?x8xf32>
func.func @dynamic_reshape(%x: tensor<?x8xf32>, %shape: tensor<3xi64>) -> tensor<?x?x8xf32> {
  %0 = "mlc.dynamic_reshape"(%x, %shape) {allowzero = 0 : i64} : (tensor<?x8xf32>, tensor<3xi64>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// A size-1 input dim takes its result size from the shape and reads index 0; the dynamic
// input dim gives its own size.
// CHECK-LABEL: func.func @dynamic_broadcast
// CHECK: %[[B:.*]] = tensor.dim %arg0, %c0 : tensor<?x1xf32>
// CHECK: %[[N:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: tensor.empty(%[[B]], %[[N]]) : tensor<?x?xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}]
func.func @dynamic_broadcast(%x: tensor<?x1xf32>, %shape: tensor<2xi64>) -> tensor<?x?xf32> {
  %0 = "mlc.dynamic_broadcast"(%x, %shape) : (tensor<?x1xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// A dynamic length: ceil((limit - start) / delta), at least 0.
// CHECK-LABEL: func.func @range
// CHECK: arith.ceildivsi
// CHECK: arith.maxsi
// CHECK: tensor.empty(%{{.*}}) : tensor<?xi64>
func.func @range(%start: tensor<i64>, %delta: tensor<i64>, %limit: tensor<i64>) -> tensor<?xi64> {
  %0 = "mlc.range"(%start, %delta, %limit) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}
