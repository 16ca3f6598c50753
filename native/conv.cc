// 2-D convolutions over oneDNN in TF.js's layouts: activations NHWC, filters HWIO ([fh, fw, in, out]).
// The primitives and their layouts are in conv-prims.cc.
#include <memory>
#include <unordered_map>
#include "conv.h"

namespace ob {

using dnnl::memory;
using dt = memory::data_type;

namespace {

// One operand (slot 0 or 1) of a convolution in the current precision: the user's fp32 array (fp32),
// converted to bf16 (bf16), or rounded to bf16 and kept in fp32 (emulated), in a scratch buffer kept
// between calls.
void *Operand(float *user, int64_t n, Precision p, int slot) {
  static std::vector<uint16_t> half[2];
  static std::vector<float> full[2];
  if (p == kBf16) {
    uint16_t *b = Scratch(half[slot], n);
    ConvertToBf16(user, b, n);
    return b;
  }
  if (p == kBf16Emulated) {
    float *f = Scratch(full[slot], n);
    RoundToBf16(user, f, n);
    return f;
  }
  return user;
}

// conv2d(x, w, bias | null, y, geom, act, alpha): y = act(conv(x, w) + bias), computed as Conv2D, Add and
// the activation's kernel compute it, bit for bit, on every CPU: oneDNN's plain convolution (the very
// primitive Conv2D runs), then the bias and the activation in one pass of the Add and activation kernels'
// float32 operations (AddBiasActivation in elementwise.cc). Not oneDNN's bias and eltwise post-op: where a
// bias enters the accumulation is each kernel's own choice (oneDNN 2.6's jit:avx2 kernel starts its
// accumulator at the bias, which rounds most outputs differently from conv + bias, by 1 ulp to thousands
// where the sum cancels; its AVX-512 direct kernel's source adds the bias after the first block of input
// channels), and its ReLU post-op turns NaN into 0 where the Relu kernel keeps NaN.
Napi::Value Conv2d(const Napi::CallbackInfo &info) {
  float *x = F32(info[0], "x");
  float *w = F32(info[1], "filter");
  bool has_bias = !info[2].IsNull() && !info[2].IsUndefined();
  float *b = has_bias ? F32(info[2], "bias") : nullptr;
  float *y = F32(info[3], "y");
  int act = static_cast<int>(Int(info[5]));
  float alpha = static_cast<float>(Dbl(info[6]));
  Geom g = ReadGeom(info[4]);
  Require(Len(info[0]) == g.SrcLen() && Len(info[3]) == g.DstLen() && Len(info[1]) == g.WeightsLen() &&
              (!has_bias || Len(info[2]) == g.oc),
          info.Env(), "conv2d: array sizes do not match the geometry");
  Require(act >= 0 && act < kActivationCount, info.Env(), "conv2d: unknown activation code (see ops.act)");
  Precision p = CurrentPrecision();
  if (p == kBf16 && !FastBf16(Key(g, "f"), [&] { return GetFwd(g, true).pd; })) p = kBf16Emulated;
  const bool bf16 = p == kBf16;
  const dt in = bf16 ? dt::bf16 : dt::f32;
  Fwd &e = GetFwd(g, bf16);
  void *xs = Operand(x, g.SrcLen(), p, 0), *ws = Operand(w, g.WeightsLen(), p, 1);
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, e.src.In(g.Src(in), xs)},
                            {DNNL_ARG_WEIGHTS, e.weights.In(g.UserWeights(in), ws)},
                            {DNNL_ARG_DST, e.dst.Target(g.Dst(), y)}});
  e.dst.Out(g.Dst(), y);
  Stream().wait();
  AddBiasActivation(y, g.n * g.oh * g.ow, g.oc, b, act, alpha);
  return info.Env().Undefined();
}

// conv2dBackpropInput(dy, w, dx, geom): dx = gradient of conv2d with respect to its input
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo &info) {
  float *dy = F32(info[0], "dy");
  float *w = F32(info[1], "filter");
  float *dx = F32(info[2], "dx");
  Geom g = ReadGeom(info[3]);
  Require(Len(info[0]) == g.DstLen() && Len(info[2]) == g.SrcLen() && Len(info[1]) == g.WeightsLen(), info.Env(),
          "conv2dBackpropInput: array sizes do not match the geometry");
  Precision p = CurrentPrecision();
  if (p == kBf16 && !FastBf16(Key(g, "bd"), [&] { return GetBwdData(g, true).pd; })) p = kBf16Emulated;
  if (g.c == 1 && p != kBf16) {
    void *dys = Operand(dy, g.DstLen(), p, 0), *ws = Operand(w, g.WeightsLen(), p, 1);
    SingleChannelBackpropInput(g, static_cast<float *>(dys), static_cast<float *>(ws), dx);
    return info.Env().Undefined();
  }
  const dt in = p == kBf16 ? dt::bf16 : dt::f32;
  BwdData &e = GetBwdData(g, p == kBf16);
  void *dys = Operand(dy, g.DstLen(), p, 0), *ws = Operand(w, g.WeightsLen(), p, 1);
  e.prim.execute(Stream(), {{DNNL_ARG_DIFF_DST, e.diff_dst.In(g.Dst(in), dys)},
                            {DNNL_ARG_WEIGHTS, e.weights.In(g.UserWeights(in), ws)},
                            {DNNL_ARG_DIFF_SRC, e.diff_src.Target(g.Src(), dx)}});
  e.diff_src.Out(g.Src(), dx);
  Stream().wait();
  return info.Env().Undefined();
}

// conv2dBackpropFilter(x, dy, dw, geom): dw = gradient of conv2d with respect to its filter
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo &info) {
  float *x = F32(info[0], "x");
  float *dy = F32(info[1], "dy");
  float *dw = F32(info[2], "dw");
  Geom g = ReadGeom(info[3]);
  Require(Len(info[0]) == g.SrcLen() && Len(info[1]) == g.DstLen() && Len(info[2]) == g.WeightsLen(), info.Env(),
          "conv2dBackpropFilter: array sizes do not match the geometry");
  Precision p = CurrentPrecision();
  if (p == kBf16 && !FastBf16(Key(g, "bw"), [&] { return GetBwdWeights(g, true).pd; }))
    p = kBf16Emulated;
  const dt in = p == kBf16 ? dt::bf16 : dt::f32;
  BwdWeights &e = GetBwdWeights(g, p == kBf16);
  void *xs = Operand(x, g.SrcLen(), p, 0), *dys = Operand(dy, g.DstLen(), p, 1);
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, e.src.In(g.Src(in), xs)},
                            {DNNL_ARG_DIFF_DST, e.diff_dst.In(g.Dst(in), dys)},
                            {DNNL_ARG_DIFF_WEIGHTS, e.weights.Target(g.UserWeights(), dw)}});
  e.weights.Out(g.UserWeights(), dw);
  Stream().wait();
  return info.Env().Undefined();
}

// convImpl(kind, geom): the oneDNN implementation chosen in the current precision and layout, and the
// layout of its activations ('nhwc' | 'blocked'), for profiling and tests; kind 'fwd' | 'bwd_data' |
// 'bwd_weights'.
Napi::Value ConvImpl(const Napi::CallbackInfo &info) {
  std::string kind = info[0].As<Napi::String>();
  std::string s;
  const bool bf16 = CurrentPrecision() == kBf16;
  const Geom g = ReadGeom(info[1]);
  auto layout = [](const Reorder &r) { return r.needed ? " blocked" : " nhwc"; };
  if (kind == "fwd") {
    Fwd &e = GetFwd(g, bf16);
    s = std::string(e.pd.impl_info_str()) + layout(e.src);
  } else if (kind == "bwd_data") {
    BwdData &e = GetBwdData(g, bf16);
    s = std::string(e.pd.impl_info_str()) + layout(e.diff_dst);
  } else {
    BwdWeights &e = GetBwdWeights(g, bf16);
    s = std::string(e.pd.impl_info_str()) + layout(e.src);
  }
  return Napi::String::New(info.Env(), s);
}

// setConvLayout(code): where the convolutions' activations live (ConvLayout in ops.h); primitives already
// built for the other layout are kept and used again when it returns.
Napi::Value SetConvLayoutJs(const Napi::CallbackInfo &info) {
  const int64_t code = Int(info[0]);
  Require(code >= 0 && code < kConvLayoutCount, info.Env(), "setConvLayout: unknown conv layout code (see ops.convLayout)");
  SetConvLayout(static_cast<ConvLayout>(code));
  return info.Env().Undefined();
}

template <Napi::Value (*F)(const Napi::CallbackInfo &)>
Napi::Value Guard(const Napi::CallbackInfo &info) {
  SignalsDeferred deferred;
  try {
    return F(info);
  } catch (const dnnl::error &e) {
    throw Napi::Error::New(info.Env(), std::string("oneDNN: ") + e.what());
  }
}

}  // namespace

void InitConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Guard<Conv2d>));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Guard<Conv2dBackpropInput>));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Guard<Conv2dBackpropFilter>));
  exports.Set("convImpl", Napi::Function::New(env, Guard<ConvImpl>));
  exports.Set("setConvLayout", Napi::Function::New(env, Guard<SetConvLayoutJs>));
}

}  // namespace ob
