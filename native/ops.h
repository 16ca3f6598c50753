// The op tables shared by C++ and TypeScript, written once. Each table lists (enumerator, name) pairs; the
// enums below are made from them, and the addon exports every table as `ops` (name -> code, addon.cc), from
// which lib/backend/native-ops.ts takes every code the TypeScript side passes in. To add an element-wise op,
// add it to OB_UNARY_OPS or OB_BINARY_OPS under its TF.js kernel name and implement its case: the native
// backend registers a kernel for every name of those two tables.
#pragma once

namespace ob {

// Fused activations of convolutions and products, by TF.js's fused-activation names (PReLU stays in
// JavaScript; tanh is applied by products only, for OptbenchDense).
#define OB_ACTIVATIONS(X) \
  X(kLinear, "linear") X(kRelu, "relu") X(kRelu6, "relu6") X(kElu, "elu") X(kLeakyRelu, "leakyrelu") \
  X(kSigmoid, "sigmoid") X(kTanhAct, "tanh")

// Element-wise unary kernels (elementwise.cc), by TF.js kernel name.
#define OB_UNARY_OPS(X)                                                                                     \
  X(kExp, "Exp") X(kLog, "Log") X(kSqrt, "Sqrt") X(kRsqrt, "Rsqrt") X(kSquare, "Square") X(kAbs, "Abs")    \
  X(kNeg, "Neg") X(kReluU, "Relu") X(kRelu6U, "Relu6") X(kSigmoidU, "Sigmoid") X(kTanh, "Tanh")            \
  X(kSoftplus, "Softplus") X(kStep, "Step") X(kReciprocal, "Reciprocal") X(kFloor, "Floor")                \
  X(kSign, "Sign") X(kEluU, "Elu") X(kLeakyReluU, "LeakyRelu") X(kLog1p, "Log1p") X(kExpm1, "Expm1")

// Element-wise binary kernels with broadcasting (broadcast.cc), by TF.js kernel name.
#define OB_BINARY_OPS(X)                                                                               \
  X(kAdd, "Add") X(kSub, "Sub") X(kMul, "Multiply") X(kDiv, "RealDiv") X(kMax, "Maximum")               \
  X(kMin, "Minimum") X(kSqDiff, "SquaredDifference") X(kPow, "Pow")

// Reductions (reduce.cc), by TF.js kernel name.
#define OB_REDUCTIONS(X) X(kReduceSum, "Sum") X(kReduceMax, "Max") X(kReduceMin, "Min") X(kReduceMean, "Mean")

// One-pass activation gradients (elementwise.cc `activationGrad`), by activation.
#define OB_ACTIVATION_GRADS(X) X(kTanhGrad, "tanh") X(kSigmoidGrad, "sigmoid") X(kReluGrad, "relu")

// Precision of convolutions and matrix products (precision.cc, lib/backend/native-precision.ts).
#define OB_PRECISIONS(X) X(kFp32, "fp32") X(kBf16, "bf16") X(kBf16Emulated, "bf16-emulated")

// Where the convolutions' activations live (conv-prims.cc, lib/backend/native-layout.ts).
#define OB_CONV_LAYOUTS(X) X(kLayoutAuto, "auto") X(kLayoutNhwc, "nhwc") X(kLayoutBlocked, "blocked")

// Fused optimizer updates (optim.cc), by the addon function that runs each. No code is passed for them: the
// table tells the TypeScript side which updates an addon has, so that one built from older sources (without
// a newer update) is refused with how to rebuild it instead of failing when the optimizer first steps.
#define OB_FUSED_UPDATES(X) X(kFusedAdam, "adam") X(kFusedAdamax, "adamax") X(kFusedAdamw, "adamw") X(kFusedLion, "lion")

// Every table, with the key the addon exports it under.
#define OB_OP_TABLES(T)                                                                              \
  T("act", OB_ACTIVATIONS) T("unary", OB_UNARY_OPS) T("binary", OB_BINARY_OPS) T("reduce", OB_REDUCTIONS) \
  T("activationGrad", OB_ACTIVATION_GRADS) T("precision", OB_PRECISIONS) T("convLayout", OB_CONV_LAYOUTS) \
  T("fused", OB_FUSED_UPDATES)

#define OB_ENUMERATOR(id, name) id,
enum Act { OB_ACTIVATIONS(OB_ENUMERATOR) };
enum Unary { OB_UNARY_OPS(OB_ENUMERATOR) };
enum Binary { OB_BINARY_OPS(OB_ENUMERATOR) };
enum Reduce { OB_REDUCTIONS(OB_ENUMERATOR) };
enum ActivationGrad { OB_ACTIVATION_GRADS(OB_ENUMERATOR) };
enum Precision { OB_PRECISIONS(OB_ENUMERATOR) };
enum ConvLayout { OB_CONV_LAYOUTS(OB_ENUMERATOR) };
enum FusedUpdate { OB_FUSED_UPDATES(OB_ENUMERATOR) };
#undef OB_ENUMERATOR

// How many codes a table has (its codes are 0 .. count - 1), for checking a code that comes from JavaScript.
#define OB_ONE(id, name) +1
constexpr int kActivationCount = 0 OB_ACTIVATIONS(OB_ONE);
constexpr int kPrecisionCount = 0 OB_PRECISIONS(OB_ONE);
constexpr int kConvLayoutCount = 0 OB_CONV_LAYOUTS(OB_ONE);
#undef OB_ONE

}  // namespace ob
