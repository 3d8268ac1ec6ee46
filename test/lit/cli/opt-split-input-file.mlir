// Each chunk is parsed and run on its own (the same symbol twice is fine); outputs are joined
// by the marker.
// RUN: mlc opt %s --split-input-file | FileCheck %s

// CHECK: func.func @f() -> i32
// CHECK: arith.constant 1 : i32
// CHECK: // -----
// CHECK: func.func @f() -> i32
// CHECK: arith.constant 2 : i32
// CHECK-NOT: // -----
func.func @f() -> i32 {
  %0 = arith.constant 1 : i32
  return %0 : i32
}

// -----

func.func @f() -> i32 {
  %0 = arith.constant 2 : i32
  return %0 : i32
}
