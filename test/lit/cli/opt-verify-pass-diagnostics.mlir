// --verify-diagnostics also checks the errors a pass reports, at the op's line.
// RUN: mlc opt %s -p one-shot-bufferize --verify-diagnostics
// RUN: mlir-opt --irdl-file=%mlc_irdl %s --one-shot-bufferize --verify-diagnostics

func.func @not_bufferizable(%a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{op was not bufferized}}
  %0 = "mlc.relu"(%a) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
