// RUN: netc-opt %s --nn-shape-inference | FileCheck %s

// Unranked results get the shape each op's rule computes; the batch stays
// dynamic and the function's result type follows.

// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%{{.*}}: tensor<?x3x32x32xf32>) -> (tensor<?x10xf32>, tensor<?x40x8x8xf32>)
func.func @forward(%x: tensor<?x3x32x32xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %w = nn.param "c.weight" : tensor<8x3x3x3xf32>
  %b = nn.param "c.bias" : tensor<8xf32>
  // CHECK: nn.conv2d {{.*}} -> tensor<?x8x16x16xf32>
  %0 = nn.conv2d %x, %w, %b {stride = array<i64: 2, 2>, pad = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x3x32x32xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<*xf32>
  %g = nn.param "bn.weight" : tensor<8xf32>
  %h = nn.param "bn.bias" : tensor<8xf32>
  %m = nn.param "bn.running_mean" {buffer} : tensor<8xf32>
  %v = nn.param "bn.running_var" {buffer} : tensor<8xf32>
  // CHECK: nn.batchnorm {{.*}} -> tensor<?x8x16x16xf32>
  %1 = nn.batchnorm %0, %g, %h, %m, %v {eps = 1.0e-05 : f64, momentum = 1.0e-01 : f64} : (tensor<*xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<*xf32>
  // CHECK: nn.relu {{.*}} -> tensor<?x8x16x16xf32>
  %2 = nn.relu %1 : (tensor<*xf32>) -> tensor<*xf32>
  // CHECK: nn.maxpool2d {{.*}} -> tensor<?x8x8x8xf32>
  %3 = nn.maxpool2d %2 {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1, 1, 1>, ceil_mode = false} : (tensor<*xf32>) -> tensor<*xf32>
  %dw = nn.param "dw.weight" : tensor<16x1x3x3xf32>
  // CHECK: nn.conv2d {{.*}} -> tensor<?x16x8x8xf32>
  %4 = nn.conv2d %3, %dw {stride = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 8 : i64} : (tensor<*xf32>, tensor<16x1x3x3xf32>) -> tensor<*xf32>
  // CHECK: nn.channel_pad {{.*}} -> tensor<?x24x8x8xf32>
  %5 = nn.channel_pad %3 {before = 8 : i64, after = 8 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  // CHECK: nn.add {{.*}} -> tensor<?x16x8x8xf32>
  %6 = nn.add %4, %4 : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  // CHECK: nn.concat {{.*}} -> tensor<?x40x8x8xf32>
  %7 = nn.concat %6, %5 : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  // CHECK: nn.avgpool2d {{.*}} -> tensor<?x40x4x4xf32>
  %8 = nn.avgpool2d %7 {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, ceil_mode = true, count_include_pad = false} : (tensor<*xf32>) -> tensor<*xf32>
  // CHECK: nn.global_avgpool {{.*}} -> tensor<?x40x1x1xf32>
  %9 = nn.global_avgpool %8 : (tensor<*xf32>) -> tensor<*xf32>
  // CHECK: nn.flatten {{.*}} -> tensor<?x40xf32>
  %10 = nn.flatten %9 : (tensor<*xf32>) -> tensor<*xf32>
  %fw = nn.param "fc.weight" : tensor<10x40xf32>
  // CHECK: nn.dense {{.*}} -> tensor<?x10xf32>
  %11 = nn.dense %10, %fw : (tensor<*xf32>, tensor<10x40xf32>) -> tensor<*xf32>
  // CHECK: nn.softmax {{.*}} -> tensor<?x10xf32>
  %12 = nn.softmax %11 : (tensor<*xf32>) -> tensor<*xf32>
  // CHECK: return {{.*}} : tensor<?x10xf32>, tensor<?x40x8x8xf32>
  return %12, %7 : tensor<*xf32>, tensor<*xf32>
}
