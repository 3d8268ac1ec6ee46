// RUN: mlc opt %s -p mlc-math-approximation --split-input-file | FileCheck %s

// Vector exp: a polynomial, a power of two built from the exponent bits, no libm call left.
// CHECK-LABEL: func.func @vector_exp
// CHECK-NOT: math.exp
// CHECK: math.floor {{.*}} : vector<16xf32>
// CHECK: arith.shli {{.*}} : vector<16xi32>
// CHECK: arith.bitcast {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: arith.select
func.func @vector_exp(%x: vector<16xf32>) -> vector<16xf32> {
  %y = math.exp %x : vector<16xf32>
  return %y : vector<16xf32>
}

// -----

// Vector erf: a rational function of x^2 on the clamped input.
// CHECK-LABEL: func.func @vector_erf
// CHECK-NOT: math.erf
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.divf {{.*}} : vector<8xf32>
func.func @vector_erf(%x: vector<8xf32>) -> vector<8xf32> {
  %y = math.erf %x : vector<8xf32>
  return %y : vector<8xf32>
}

// -----

// Scalars keep libm's exact routines.
// CHECK-LABEL: func.func @scalar_exp
// CHECK: math.exp {{.*}} : f32
func.func @scalar_exp(%x: f32) -> f32 {
  %y = math.exp %x : f32
  return %y : f32
}
