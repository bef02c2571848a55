// RUN: netc-opt %s --split-input-file --nn-autodiff | FileCheck %s
// RUN: netc-opt %s --split-input-file --nn-autodiff --cse --canonicalize | FileCheck %s --check-prefix=CLEAN

// A conv + batch norm + relu + residual, then dense: the backward walk
// emits one rule per op in reverse, sums the two gradients of %x, and
// computes no gradient for the network's input.
module attributes {nn.freeze = ["fc.bias"]} {
  func.func @forward(%x: tensor<?x4x6x6xf32>) -> (tensor<?x3xf32> {nn.name = "logits", nn.loss = "cross_entropy", nn.loss_weight = 1.0 : f64}) {
    %w = nn.param "conv.weight" : tensor<4x4x3x3xf32>
    %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<?x4x6x6xf32>
    %g = nn.param "bn.weight" : tensor<4xf32>
    %b = nn.param "bn.bias" : tensor<4xf32>
    %m = nn.param "bn.running_mean" {buffer} : tensor<4xf32>
    %v = nn.param "bn.running_var" {buffer} : tensor<4xf32>
    %1 = nn.batchnorm %0, %g, %b, %m, %v {eps = 1.0e-05 : f64, momentum = 1.0e-01 : f64} : (tensor<?x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x6x6xf32>
    %2 = nn.add %1, %x : (tensor<?x4x6x6xf32>, tensor<?x4x6x6xf32>) -> tensor<?x4x6x6xf32>
    %3 = nn.relu %2 : (tensor<?x4x6x6xf32>) -> tensor<?x4x6x6xf32>
    %4 = nn.flatten %3 : (tensor<?x4x6x6xf32>) -> tensor<?x144xf32>
    %fw = nn.param "fc.weight" : tensor<3x144xf32>
    %fb = nn.param "fc.bias" : tensor<3xf32>
    %5 = nn.dense %4, %fw, %fb : (tensor<?x144xf32>, tensor<3x144xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    return %5 : tensor<?x3xf32>
  }
}

// CHECK-LABEL: func.func @train
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x4x6x6xf32>
// CHECK-SAME: %[[L:[a-z0-9]+]]: tensor<?xf32> {nn.name = "labels:logits"}
// CHECK-SAME: nn.results = ["loss:logits", "scores:logits", "grad:conv.weight", "grad:bn.weight", "grad:bn.bias", "grad:fc.weight", "mean:bn.running_mean", "var:bn.running_var"]
// CHECK: %[[C:.*]] = nn.conv2d %[[X]]
// CHECK: %[[MEAN:.*]] = nn.batch_mean %[[C]]
// CHECK: %[[VAR:.*]] = nn.batch_var %[[C]], %[[MEAN]]
// CHECK: %[[BN:.*]] = nn.batchnorm %[[C]], %{{.*}}, %{{.*}}, %[[MEAN]], %[[VAR]]
// CHECK: %[[OUT:.*]] = nn.dense
// CHECK: %[[LOSS:.*]] = nn.softmax_cross_entropy %[[OUT]], %[[L]] {negate = false}
// CHECK: %[[DOUT:.*]] = nn.softmax_cross_entropy_grad %[[OUT]], %[[L]] {negate = false, weight = 1.000000e+00 : f64}
// CHECK: nn.dense_grad_input %[[DOUT]]
// CHECK: %[[DFW:.*]] = nn.dense_grad_weight %[[DOUT]]
// CHECK-NOT: nn.bias_grad %[[DOUT]]
// CHECK: nn.reshape
// CHECK: %[[DR:.*]] = nn.relu_grad
// CHECK: %[[DG:.*]] = nn.batchnorm_grad_weight %[[DR]], %[[C]], %[[MEAN]], %[[VAR]]
// CHECK: %[[DB:.*]] = nn.bias_grad %[[DR]]
// CHECK: %[[DC:.*]] = nn.batchnorm_grad_input %[[DR]], %[[C]], %{{.*}}, %[[MEAN]], %[[VAR]], %[[DB]], %[[DG]]
// CHECK-NOT: nn.conv2d_grad_input
// CHECK: %[[DW:.*]] = nn.conv2d_grad_weight %[[DC]], %[[X]]
// CHECK: return %[[LOSS]], %[[OUT]], %[[DW]], %[[DG]], %[[DB]], %[[DFW]], %[[MEAN]], %[[VAR]]

// CLEAN-LABEL: func.func @train
// CLEAN-COUNT-1: nn.bias_grad

// -----

// Without a trained parameter below it, nothing flows back past a layer.
module attributes {nn.freeze = ["c1"]} {
  func.func @forward(%x: tensor<?x1x5x5xf32>) -> (tensor<?x2xf32> {nn.name = "logits", nn.loss = "cross_entropy", nn.loss_weight = 1.0 : f64, nn.loss_negate}) {
    %w1 = nn.param "c1.weight" : tensor<2x1x3x3xf32>
    %0 = nn.conv2d %x, %w1 {stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x1x5x5xf32>, tensor<2x1x3x3xf32>) -> tensor<?x2x3x3xf32>
    %1 = nn.maxpool2d %0 {kernel = array<i64: 3, 3>, stride = array<i64: 3, 3>, pad = array<i64: 0, 0, 0, 0>, ceil_mode = false} : (tensor<?x2x3x3xf32>) -> tensor<?x2x1x1xf32>
    %2 = nn.flatten %1 : (tensor<?x2x1x1xf32>) -> tensor<?x2xf32>
    %w2 = nn.param "f.weight" : tensor<2x2xf32>
    %3 = nn.rbf %2, %w2 : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
    return %3 : tensor<?x2xf32>
  }
}

// CHECK-LABEL: func.func @train
// CHECK-SAME: nn.results = ["loss:logits", "scores:logits", "grad:f.weight"]
// CHECK: nn.softmax_cross_entropy_grad {{.*}}negate = true
// CHECK: nn.rbf_grad_weight
// CHECK-NOT: nn.rbf_grad_input
// CHECK-NOT: nn.maxpool2d_grad
// CHECK-NOT: nn.conv2d_grad
// CHECK: return

// -----

// Dropout in training: a mask from the step's (seed, step) argument and a
// salt per layer; its gradient recomputes the same mask. LRN has its rule.
func.func @forward(%x: tensor<?x4x3x3xf32>) -> (tensor<?x4xf32> {nn.name = "logits", nn.loss = "cross_entropy"}) {
  %w = nn.param "c.weight" : tensor<4x4x1x1xf32>
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x4x3x3xf32>, tensor<4x4x1x1xf32>) -> tensor<?x4x3x3xf32>
  %1 = nn.lrn %0 {size = 3 : i64, alpha = 1.0e-04 : f64, beta = 7.5e-01 : f64, k = 2.0 : f64} : (tensor<?x4x3x3xf32>) -> tensor<?x4x3x3xf32>
  %2 = nn.dropout %1 {p = 5.0e-01 : f64} : (tensor<?x4x3x3xf32>) -> tensor<?x4x3x3xf32>
  %3 = nn.global_avgpool %2 : (tensor<?x4x3x3xf32>) -> tensor<?x4x1x1xf32>
  %4 = nn.flatten %3 : (tensor<?x4x1x1xf32>) -> tensor<?x4xf32>
  %5 = nn.dropout %4 {p = 2.0e-01 : f64} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return %5 : tensor<?x4xf32>
}

// CHECK-LABEL: func.func @train
// CHECK-SAME: %[[RNG:[a-z0-9]+]]: tensor<3xf32> {nn.name = "rng"}
// CHECK: %[[LRN:.*]] = nn.lrn
// CHECK: nn.dropout_train %[[LRN]], %[[RNG]] {p = 5.000000e-01 : f64, salt = 0 : i64}
// CHECK: nn.dropout_train %{{.*}}, %[[RNG]] {p = 2.000000e-01 : f64, salt = 1 : i64}
// CHECK: %[[G:.*]] = nn.softmax_cross_entropy_grad
// CHECK: nn.dropout_train %[[G]], %[[RNG]] {p = 2.000000e-01 : f64, salt = 1 : i64}
// CHECK: nn.dropout_train %{{.*}}, %[[RNG]] {p = 5.000000e-01 : f64, salt = 0 : i64}
// CHECK: nn.lrn_grad
