// RUN: netc-opt %s -split-input-file -verify-diagnostics

func.func @weight_shape(%x: tensor<?x3x32x32xf32>) -> tensor<?x8x30x30xf32> {
  %w = nn.param "w" : tensor<8x2x3x3xf32>
  // expected-error @+1 {{'nn.conv2d' op weight must have shape [8, 3, 3, 3], got [8, 2, 3, 3]}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x3x32x32xf32>, tensor<8x2x3x3xf32>) -> tensor<?x8x30x30xf32>
  return %0 : tensor<?x8x30x30xf32>
}

// -----

func.func @wrong_result(%x: tensor<?x3x32x32xf32>) -> tensor<?x8x32x32xf32> {
  %w = nn.param "w" : tensor<8x3x3x3xf32>
  // expected-error @+1 {{'nn.conv2d' op result shape [?, 8, 32, 32] does not match the inferred shape [?, 8, 30, 30]}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x3x32x32xf32>, tensor<8x3x3x3xf32>) -> tensor<?x8x32x32xf32>
  return %0 : tensor<?x8x32x32xf32>
}

// -----

func.func @add_mismatch(%a: tensor<?x8x4x4xf32>, %b: tensor<?x8x2x2xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'nn.add' op operands differ in shape: [?, 8, 4, 4] and [?, 8, 2, 2]}}
  %0 = nn.add %a, %b : (tensor<?x8x4x4xf32>, tensor<?x8x2x2xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @concat_mismatch(%a: tensor<?x8x4x4xf32>, %b: tensor<?x8x2x2xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'nn.concat' op inputs differ in shape beyond channels: [?, 8, 4, 4] and [?, 8, 2, 2]}}
  %0 = nn.concat %a, %b : (tensor<?x8x4x4xf32>, tensor<?x8x2x2xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dynamic_param() -> tensor<?xf32> {
  // expected-error @+1 {{'nn.param' op parameter 'w' must have a static shape}}
  %w = nn.param "w" : tensor<?xf32>
  return %w : tensor<?xf32>
}

// -----

func.func @pool_padding(%x: tensor<?x3x32x32xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'nn.maxpool2d' op padding must be at most half the window}}
  %0 = nn.maxpool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 2, 2, 2, 2>, ceil_mode = false} : (tensor<?x3x32x32xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dense_rank(%x: tensor<?x3x32x32xf32>) -> tensor<*xf32> {
  %w = nn.param "w" : tensor<10x3072xf32>
  // expected-error @+1 {{'nn.dense' op input must have rank 2, got [?, 3, 32, 32]}}
  %0 = nn.dense %x, %w : (tensor<?x3x32x32xf32>, tensor<10x3072xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @kernel_too_big(%x: tensor<?x3x4x4xf32>) -> tensor<*xf32> {
  %w = nn.param "w" : tensor<8x3x7x7xf32>
  // expected-error @+1 {{'nn.conv2d' op kernel 7x7 does not fit the padded input}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x3x4x4xf32>, tensor<8x3x7x7xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
