// --verify-diagnostics itself: diagnostics that match pass (line offsets, @above, a chunk
// without expectations); a wrong expectation fails, naming both the unexpected diagnostic
// and the expectation that was not met, at their lines in the whole file.
// RUN: mlc opt %s --split-input-file --verify-diagnostics
// Upstream reads the same expectations the same way:
// RUN: mlir-opt --irdl-file=%mlc_irdl %s --split-input-file --verify-diagnostics
// RUN: %python -c "import sys; open(sys.argv[2], 'w').write(open(sys.argv[1]).read().replace('{{expects exactly 1', '{{expects exactly 7'))" %s %t.mlir
// RUN: not mlc opt %t.mlir --split-input-file --verify-diagnostics 2>&1 | FileCheck %s
// CHECK: mlc: error: {{.*}}.mlir: the diagnostics differ from the expected ones:
// CHECK-NEXT: {{.*}}.mlir:28: unexpected error: {{.*}}expects exactly 1 operands, but got 2
// CHECK-NEXT: {{.*}}.mlir:28: expected error "expects exactly 7 operands, but got 2" was not produced

func.func @fine(%a: tensor<2xf32>) -> tensor<2xf32> {
  %0 = "mlc.relu"(%a) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @same_line(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = "mlc.transpose"(%a) {perm = 1 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32> // expected-error {{expected base attribute}}
  return %0 : tensor<3x2xf32>
}

// -----

func.func @above(%a: tensor<2xf32>) -> tensor<2xf32> {
  %0 = "mlc.relu"(%a, %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  // expected-error @above {{expects exactly 1 operands, but got 2}}
  return %0 : tensor<2xf32>
}

// -----

// expected-error @+1 {{custom op 'not_an_op' is unknown}}
not_an_op
