// RUN: netc-opt %s --split-input-file --nn-autodiff --verify-diagnostics

// expected-error @+1 {{no result of @forward is marked as a loss}}
func.func @forward(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  return %x : tensor<?x2xf32>
}

// -----

// expected-error @+1 {{loss 'hinge' is not supported in training yet}}
func.func @forward(%x: tensor<?x2xf32>) -> (tensor<?x2xf32> {nn.loss = "hinge"}) {
  return %x : tensor<?x2xf32>
}
