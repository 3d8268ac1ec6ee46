// The IRDL constraints reject malformed mlc ops; mlc opt reports them like mlir-opt.
// RUN: mlc opt %s --split-input-file --verify-diagnostics
// RUN: mlir-opt --irdl-file=%mlc_irdl %s --split-input-file --verify-diagnostics

func.func @attribute_of_wrong_kind(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expected base attribute 'builtin.integer' but got 'builtin.float'}}
  %0 = "mlc.softmax"(%a) {axis = 1.0 : f32} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @missing_attribute(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{attribute "axis" is expected but not provided}}
  %0 = "mlc.softmax"(%a) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @ints_as_int(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{expected base attribute 'builtin.dense_array' but got 'builtin.integer'}}
  %0 = "mlc.transpose"(%a) {perm = 1 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @operand_not_a_tensor(%a: memref<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expected base type 'builtin.tensor' but got 'builtin.memref'}}
  %0 = "mlc.relu"(%a) : (memref<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @too_few_operands(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects exactly 2 operands, but got 1}}
  %0 = "mlc.add"(%a) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
