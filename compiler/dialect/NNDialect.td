//===- NNDialect.td - The nn dialect -----------------------*- tablegen -*-===//
#ifndef NETC_NN_DIALECT
#define NETC_NN_DIALECT

include "mlir/IR/OpBase.td"

def NN_Dialect : Dialect {
  let name = "nn";
  let cppNamespace = "::netc::nn";
  let summary = "Neural network layers with static per-sample shapes";
  let description = [{
    One op per layer of a netc model. Tensors are NCHW (or NC for flat
    features) float32 with a dynamic batch dimension; all other dimensions
    are static after shape inference. Parameters are `nn.param` ops named as
    in the model file and listed in definition order.
  }];
}

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, traits>;

#endif // NETC_NN_DIALECT
