// RUN: mlc opt %s -p mlc-vectorize-copies --split-input-file | FileCheck %s

// A padded-input copy: rows of 70 f32 move as one 64-lane vector, then one of 6.
// CHECK-LABEL: func.func @strided_copy
// CHECK-NOT: linalg.copy
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} vector<64xf32>
// CHECK: vector.transfer_write {{.*}} vector<64xf32>
// CHECK: vector.transfer_read {{.*}} vector<6xf32>
// CHECK: vector.transfer_write {{.*}} vector<6xf32>
func.func @strided_copy(%src: memref<3x70xf32>, %dst: memref<3x72xf32>) {
  %sub = memref.subview %dst[0, 1] [3, 70] [1, 1] : memref<3x72xf32> to memref<3x70xf32, strided<[72, 1], offset: 1>>
  linalg.copy ins(%src : memref<3x70xf32>) outs(%sub : memref<3x70xf32, strided<[72, 1], offset: 1>>)
  return
}

// -----

// A fill of a long row: a loop of 64-lane stores.
// CHECK-LABEL: func.func @fill
// CHECK-NOT: linalg.fill
// CHECK: scf.for {{.*}} step %c64
// CHECK: vector.broadcast {{.*}} : f32 to vector<64xf32>
// CHECK: vector.transfer_write
func.func @fill(%dst: memref<2x256xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%dst : memref<2x256xf32>)
  return
}

// -----

// An innermost stride other than 1 is not a row of contiguous elements: left alone.
// CHECK-LABEL: func.func @strided_inner
// CHECK: linalg.copy
func.func @strided_inner(%src: memref<4x64xf32>, %dst: memref<4x32xf32>) {
  %sub = memref.subview %src[0, 0] [4, 32] [1, 2] : memref<4x64xf32> to memref<4x32xf32, strided<[64, 2]>>
  linalg.copy ins(%sub : memref<4x32xf32, strided<[64, 2]>>) outs(%dst : memref<4x32xf32>)
  return
}

// -----

// A large copy (a 56x56x64 image into a padded buffer's interior: 784 KiB) runs its rows on
// the model's threads: its first dim over one row is an scf.forall.
// CHECK-LABEL: func.func @large_copy
// CHECK: scf.forall (%[[Y:.*]]) in (56)
// CHECK: scf.for %[[X:.*]] =
// CHECK: vector.transfer_read {{.*}}[%{{.*}}, %[[Y]], %[[X]], %c0]{{.*}} vector<64xf32>
func.func @large_copy(%src: memref<1x56x56x64xf32>, %dst: memref<1x58x58x64xf32>) {
  %sub = memref.subview %dst[0, 1, 1, 0] [1, 56, 56, 64] [1, 1, 1, 1] : memref<1x58x58x64xf32> to memref<1x56x56x64xf32, strided<[215296, 3712, 64, 1], offset: 3776>>
  linalg.copy ins(%src : memref<1x56x56x64xf32>) outs(%sub : memref<1x56x56x64xf32, strided<[215296, 3712, 64, 1], offset: 3776>>)
  return
}

// -----

// The same copy inside a parallel loop stays serial there (no region within a region).
// CHECK-LABEL: func.func @copy_in_forall
// CHECK: scf.forall
// CHECK-NOT: scf.forall
// CHECK: return
func.func @copy_in_forall(%src: memref<2x1x56x56x64xf32>, %dst: memref<2x1x56x56x64xf32>) {
  scf.forall (%i) in (2) {
    %s = memref.subview %src[%i, 0, 0, 0, 0] [1, 1, 56, 56, 64] [1, 1, 1, 1, 1] : memref<2x1x56x56x64xf32> to memref<1x56x56x64xf32, strided<[200704, 3584, 64, 1], offset: ?>>
    %d = memref.subview %dst[%i, 0, 0, 0, 0] [1, 1, 56, 56, 64] [1, 1, 1, 1, 1] : memref<2x1x56x56x64xf32> to memref<1x56x56x64xf32, strided<[200704, 3584, 64, 1], offset: ?>>
    linalg.copy ins(%s : memref<1x56x56x64xf32, strided<[200704, 3584, 64, 1], offset: ?>>) outs(%d : memref<1x56x56x64xf32, strided<[200704, 3584, 64, 1], offset: ?>>)
  }
  return
}
