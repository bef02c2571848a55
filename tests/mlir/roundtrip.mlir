// RUN: netc-opt %s | netc-opt | FileCheck %s
// RUN: netc-opt %s --mlir-print-op-generic | netc-opt | FileCheck %s

// CHECK-LABEL: func.func @all_ops
func.func @all_ops(%x: tensor<?x4x8x8xf32>, %f: tensor<?x16xf32>) -> (tensor<?x4x8x8xf32>, tensor<?x3xf32>) {
  // CHECK: nn.lrn %{{.*}} {alpha = 5.000000e-04 : f64, beta = 7.500000e-01 : f64, k = 2.000000e+00 : f64, size = 5 : i64}
  %0 = nn.lrn %x {size = 5 : i64, alpha = 5.0e-4 : f64, beta = 0.75 : f64, k = 2.0 : f64} : (tensor<?x4x8x8xf32>) -> tensor<?x4x8x8xf32>
  // CHECK: nn.dropout %{{.*}} {p = 5.000000e-01 : f64}
  %1 = nn.dropout %0 {p = 0.5 : f64} : (tensor<?x4x8x8xf32>) -> tensor<?x4x8x8xf32>
  // CHECK: nn.tanh
  %2 = nn.tanh %1 : (tensor<?x4x8x8xf32>) -> tensor<?x4x8x8xf32>
  // CHECK: nn.sigmoid
  %3 = nn.sigmoid %2 : (tensor<?x4x8x8xf32>) -> tensor<?x4x8x8xf32>
  %w = nn.param "rbf.weight" : tensor<3x16xf32>
  // CHECK: nn.rbf %{{.*}}, %{{.*}} : (tensor<?x16xf32>, tensor<3x16xf32>) -> tensor<?x3xf32>
  %4 = nn.rbf %f, %w : (tensor<?x16xf32>, tensor<3x16xf32>) -> tensor<?x3xf32>
  return %3, %4 : tensor<?x4x8x8xf32>, tensor<?x3xf32>
}
