// RUN: netc-opt %s --split-input-file --nn-subsample-strided-pointwise | FileCheck %s

// A 1x1 convolution at stride 2 reads every other pixel of every other row:
// a 1x1 max pool at stride 2 picks them, the convolution runs at stride 1.
// CHECK-LABEL: func.func @downsample
// CHECK: %[[P:.*]] = nn.maxpool2d %arg0 {ceil_mode = false, kernel = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<?x8x15x16xf32>) -> tensor<?x8x8x8xf32>
// CHECK: nn.conv2d %[[P]], %{{.*}}, %{{.*}} {{{.*}}stride = array<i64: 1, 1>} : (tensor<?x8x8x8xf32>, tensor<4x8x1x1xf32>, tensor<4xf32>) -> tensor<?x4x8x8xf32>
func.func @downsample(%x: tensor<?x8x15x16xf32>) -> tensor<?x4x8x8xf32> {
  %w = nn.param "ds.weight" : tensor<4x8x1x1xf32>
  %b = nn.param "ds.bias" : tensor<4xf32>
  %0 = nn.conv2d %x, %w, %b {stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x8x15x16xf32>, tensor<4x8x1x1xf32>, tensor<4xf32>) -> tensor<?x4x8x8xf32>
  return %0 : tensor<?x4x8x8xf32>
}

// -----

// Padded, larger kernels and stride 1 stay as they are.
// CHECK-LABEL: func.func @unchanged
// CHECK-NOT: nn.maxpool2d
// CHECK: stride = array<i64: 2, 2>
// CHECK: stride = array<i64: 2, 2>
// CHECK: stride = array<i64: 1, 1>
func.func @unchanged(%x: tensor<?x8x16x16xf32>) -> (tensor<?x4x9x9xf32>, tensor<?x4x8x8xf32>, tensor<?x4x16x16xf32>) {
  %w = nn.param "a.weight" : tensor<4x8x1x1xf32>
  %v = nn.param "b.weight" : tensor<4x8x3x3xf32>
  %0 = nn.conv2d %x, %w {stride = array<i64: 2, 2>, pad = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x8x16x16xf32>, tensor<4x8x1x1xf32>) -> tensor<?x4x9x9xf32>
  %1 = nn.conv2d %x, %v {stride = array<i64: 2, 2>, pad = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x8x16x16xf32>, tensor<4x8x3x3xf32>) -> tensor<?x4x8x8xf32>
  %2 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x8x16x16xf32>, tensor<4x8x1x1xf32>) -> tensor<?x4x16x16xf32>
  return %0, %1, %2 : tensor<?x4x9x9xf32>, tensor<?x4x8x8xf32>, tensor<?x4x16x16xf32>
}
