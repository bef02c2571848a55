// RUN: netc-opt %s --split-input-file --nn-autodiff --verify-diagnostics

// expected-error @+1 {{no result of @forward is marked as a loss}}
func.func @forward(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  return %x : tensor<?x2xf32>
}

// -----

func.func @forward(%x: tensor<?x4x3x3xf32>) -> (tensor<?x4xf32> {nn.loss = "cross_entropy"}) {
  %w = nn.param "c.weight" : tensor<4x4x1x1xf32>
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x4x3x3xf32>, tensor<4x4x1x1xf32>) -> tensor<?x4x3x3xf32>
  // expected-error @+1 {{'nn.lrn' op has no gradient rule yet}}
  %1 = nn.lrn %0 {size = 3 : i64, alpha = 1.0e-04 : f64, beta = 7.5e-01 : f64, k = 2.0 : f64} : (tensor<?x4x3x3xf32>) -> tensor<?x4x3x3xf32>
  %2 = nn.global_avgpool %1 : (tensor<?x4x3x3xf32>) -> tensor<?x4x1x1xf32>
  %3 = nn.flatten %2 : (tensor<?x4x1x1xf32>) -> tensor<?x4xf32>
  return %3 : tensor<?x4xf32>
}

// -----

// expected-error @+1 {{loss 'mse' is not supported in training yet}}
func.func @forward(%x: tensor<?x2xf32>) -> (tensor<?x2xf32> {nn.loss = "mse"}) {
  return %x : tensor<?x2xf32>
}
