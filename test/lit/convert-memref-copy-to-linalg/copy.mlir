// RUN: mlc opt %s -p convert-memref-copy-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @strided_copy
// CHECK-NOT: memref.copy
// CHECK: linalg.copy {{.*}} ins(%{{.*}} : memref<2x4xf32, strided<[4, 1], offset: 4>>) outs(%arg1 : memref<2x4xf32>)
func.func @strided_copy(%src: memref<4x4xf32>, %dst: memref<2x4xf32>) {
  %sub = memref.subview %src[1, 0] [2, 4] [1, 1] : memref<4x4xf32> to memref<2x4xf32, strided<[4, 1], offset: 4>>
  memref.copy %sub, %dst : memref<2x4xf32, strided<[4, 1], offset: 4>> to memref<2x4xf32>
  return
}
