// RUN: netc-opt %s --split-input-file --nn-remove-dropout | FileCheck %s --check-prefix=DROPOUT
// RUN: netc-opt %s --split-input-file --nn-fold-batchnorm | FileCheck %s --check-prefix=FOLD
// RUN: netc-opt %s --split-input-file --nn-fuse-epilogues | FileCheck %s --check-prefix=FUSE
// RUN: netc-opt %s --split-input-file --nn-inference | FileCheck %s --check-prefix=ALL

// A conv with batch norm, relu and a residual sum; a dense with dropout.
func.func @block(%x: tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32> {
  %w = nn.param "conv.weight" : tensor<16x16x3x3xf32>
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<?x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<?x16x8x8xf32>
  %g = nn.param "bn.weight" : tensor<16xf32>
  %b = nn.param "bn.bias" : tensor<16xf32>
  %m = nn.param "bn.running_mean" {buffer} : tensor<16xf32>
  %v = nn.param "bn.running_var" {buffer} : tensor<16xf32>
  %1 = nn.batchnorm %0, %g, %b, %m, %v {eps = 1.0e-05 : f64, momentum = 1.0e-01 : f64} : (tensor<?x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16x8x8xf32>
  %2 = nn.add %1, %x : (tensor<?x16x8x8xf32>, tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32>
  %3 = nn.relu %2 : (tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32>
  return %3 : tensor<?x16x8x8xf32>
}

// FOLD-LABEL: func.func @block
// FOLD: %[[W:.*]] = nn.param "conv.weight"
// FOLD: %[[FW:.*]] = nn.fold_bn_weight %[[W]], %[[G:.*]], %[[V:.*]] {eps = 1.000000e-05 : f64}
// FOLD: %[[FB:.*]] = nn.fold_bn_bias %[[G]], %{{.*}}, %{{.*}}, %[[V]] {eps = 1.000000e-05 : f64}
// FOLD: %[[C:.*]] = nn.conv2d %{{.*}}, %[[FW]], %[[FB]]
// FOLD-NOT: nn.batchnorm
// FOLD: nn.add %[[C]]

// Without folding, batch norm joins the conv's group.
// FUSE-LABEL: func.func @block
// FUSE: nn.conv2d {{.*}}nn.group = 0
// FUSE: nn.batchnorm {{.*}}nn.group = 0
// FUSE: nn.add {{.*}}nn.group = 0
// FUSE: nn.relu {{.*}}nn.group = 0

// ALL-LABEL: func.func @block
// ALL: nn.fold_bn_weight
// ALL: nn.conv2d {{.*}}nn.group = 0
// ALL-NEXT: nn.add {{.*}}nn.group = 0
// ALL-NEXT: nn.relu {{.*}}nn.group = 0

// -----

func.func @head(%x: tensor<?x32xf32>) -> (tensor<?x10xf32>, tensor<?x32xf32>) {
  %0 = nn.dropout %x {p = 5.0e-01 : f64} : (tensor<?x32xf32>) -> tensor<?x32xf32>
  %w = nn.param "fc.weight" : tensor<10x32xf32>
  %1 = nn.dense %0, %w : (tensor<?x32xf32>, tensor<10x32xf32>) -> tensor<?x10xf32>
  %2 = nn.relu %x : (tensor<?x32xf32>) -> tensor<?x32xf32>
  return %1, %2 : tensor<?x10xf32>, tensor<?x32xf32>
}

// DROPOUT-LABEL: func.func @head
// DROPOUT-NOT: nn.dropout
// DROPOUT: nn.dense %arg0

// A layer whose result has a second use keeps its tail apart.
// FUSE-LABEL: func.func @head
// FUSE-NOT: nn.group
