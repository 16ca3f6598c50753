// 2-D convolutions over oneDNN in TF.js's layouts: activations NHWC, filters HWIO ([fh, fw, in, out]).
// Primitives are built once per shape (building one costs far more than running it) and kept.
#include <memory>
#include <unordered_map>
#include "common.h"

namespace ob {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

// Geometry as sent from JavaScript: N, H, W, C, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR.
struct Geom {
  int64_t n, h, w, c, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  memory::desc Src(dt t = dt::f32) const { return memory::desc({n, c, h, w}, t, tag::nhwc); }
  memory::desc Dst(dt t = dt::f32) const { return memory::desc({n, oc, oh, ow}, t, tag::nhwc); }
  memory::desc UserWeights(dt t = dt::f32) const { return memory::desc({oc, c, kh, kw}, t, tag::hwio); }
  memory::desc AnyWeights(dt t = dt::f32) const { return memory::desc({oc, c, kh, kw}, t, tag::any); }
  int64_t SrcLen() const { return n * h * w * c; }
  int64_t DstLen() const { return n * oh * ow * oc; }
  int64_t WeightsLen() const { return kh * kw * c * oc; }
  memory::desc Bias() const { return memory::desc({oc}, dt::f32, tag::a); }
  memory::dims Strides() const { return {sh, sw}; }
  memory::dims Dilates() const { return {dh - 1, dw - 1}; }
  memory::dims PadL() const { return {pt, pl}; }
  memory::dims PadR() const { return {pb, pr}; }
};

Geom ReadGeom(const Napi::Value &v) {
  auto g = Ints(v);
  Require(g.size() == 17, v.Env(), "conv geometry must have 17 numbers");
  return Geom{g[0], g[1], g[2],  g[3],  g[4],  g[5],  g[6],  g[7], g[8],
              g[9], g[10], g[11], g[12], g[13], g[14], g[15], g[16]};
}

std::string Key(const Napi::Value &v, const std::string &extra) {
  std::string k = extra;
  for (auto x : Ints(v)) k += "," + std::to_string(x);
  return k;
}

// bf16: source and weights in bf16, bias and destination in fp32 (oneDNN accumulates in fp32).
dnnl::convolution_forward::primitive_desc ForwardPd(const Geom &g, bool bias, int act, float alpha, bool bf16) {
  using cf = dnnl::convolution_forward;
  const dt in = bf16 ? dt::bf16 : dt::f32;
  cf::desc d = bias ? cf::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, g.Src(in),
                               g.AnyWeights(in), g.Bias(), g.Dst(), g.Strides(), g.Dilates(), g.PadL(), g.PadR())
                    : cf::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, g.Src(in),
                               g.AnyWeights(in), g.Dst(), g.Strides(), g.Dilates(), g.PadL(), g.PadR());
  dnnl::post_ops po;
  switch (act) {
    case kLinear: break;
    case kRelu: po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f); break;
    case kLeakyRelu: po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, alpha, 0.f); break;
    case kRelu6: po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f); break;
    case kElu: po.append_eltwise(1.f, dnnl::algorithm::eltwise_elu, 1.f, 0.f); break;
    case kSigmoid: po.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f); break;
    default: throw std::runtime_error("unknown fused activation");
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  return cf::primitive_desc(d, attr, Engine());
}

// A reorder between a user buffer and a primitive's preferred layout, skipped when they agree.
struct Reorder {
  bool needed = false;
  memory::desc from, to;
  dnnl::reorder prim;
  std::unique_ptr<memory> scratch;  // the primitive-side buffer
  Reorder() = default;
  Reorder(const memory::desc &user, const memory::desc &prim_md, bool user_to_prim) {
    needed = user != prim_md;
    if (!needed) return;
    from = user_to_prim ? user : prim_md;
    to = user_to_prim ? prim_md : user;
    prim = dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), from, Engine(), to));
    scratch = std::make_unique<memory>(prim_md, Engine());
  }
};

struct Fwd {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  Reorder weights;
};
struct BwdData {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  Reorder weights;
};
struct BwdWeights {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
  Reorder weights;
};

std::unordered_map<std::string, std::unique_ptr<Fwd>> fwd_cache;
std::unordered_map<std::string, std::unique_ptr<BwdData>> bwd_data_cache;
std::unordered_map<std::string, std::unique_ptr<BwdWeights>> bwd_weights_cache;

Fwd &GetFwd(const Napi::Value &geom, bool bias, int act, float alpha, bool bf16) {
  std::string key =
      Key(geom, std::to_string(bias) + ":" + std::to_string(act) + ":" + std::to_string(alpha) + (bf16 ? ":bf16" : ""));
  auto it = fwd_cache.find(key);
  if (it != fwd_cache.end()) return *it->second;
  Geom g = ReadGeom(geom);
  auto e = std::make_unique<Fwd>();
  e->pd = ForwardPd(g, bias, act, alpha, bf16);
  e->prim = dnnl::convolution_forward(e->pd);
  e->weights = Reorder(g.UserWeights(bf16 ? dt::bf16 : dt::f32), e->pd.weights_desc(), true);
  return *(fwd_cache[key] = std::move(e));
}

// bf16: the output's gradient and the weights in bf16, the input's gradient in fp32.
BwdData &GetBwdData(const Napi::Value &geom, bool bf16) {
  std::string key = Key(geom, bf16 ? "bd16" : "bd");
  auto it = bwd_data_cache.find(key);
  if (it != bwd_data_cache.end()) return *it->second;
  Geom g = ReadGeom(geom);
  auto hint = ForwardPd(g, false, kLinear, 0.f, bf16);
  using cb = dnnl::convolution_backward_data;
  const dt in = bf16 ? dt::bf16 : dt::f32;
  cb::desc d(dnnl::algorithm::convolution_direct, g.Src(), g.AnyWeights(in), g.Dst(in), g.Strides(), g.Dilates(),
             g.PadL(), g.PadR());
  auto e = std::make_unique<BwdData>();
  e->pd = cb::primitive_desc(d, Engine(), hint);
  e->prim = cb(e->pd);
  e->weights = Reorder(g.UserWeights(in), e->pd.weights_desc(), true);
  return *(bwd_data_cache[key] = std::move(e));
}

// bf16: the input and the output's gradient in bf16, the weights' gradient in fp32.
BwdWeights &GetBwdWeights(const Napi::Value &geom, bool bf16) {
  std::string key = Key(geom, bf16 ? "bw16" : "bw");
  auto it = bwd_weights_cache.find(key);
  if (it != bwd_weights_cache.end()) return *it->second;
  Geom g = ReadGeom(geom);
  auto hint = ForwardPd(g, false, kLinear, 0.f, bf16);
  using cb = dnnl::convolution_backward_weights;
  const dt in = bf16 ? dt::bf16 : dt::f32;
  cb::desc d(dnnl::algorithm::convolution_direct, g.Src(in), g.AnyWeights(), g.Dst(in), g.Strides(), g.Dilates(),
             g.PadL(), g.PadR());
  auto e = std::make_unique<BwdWeights>();
  e->pd = cb::primitive_desc(d, Engine(), hint);
  // oneDNN 2.6's jit_1x1:avx2 weight gradient is wrong for a strided 1x1 filter (measured: the first input
  // channel's sums are off by 20-100 %; spec/native-kernels.spec.ts, x3x8x8x2 f1x1x2x3 s2): take the next
  // implementation oneDNN offers for that case.
  if (g.kh == 1 && g.kw == 1 && (g.sh > 1 || g.sw > 1))
    while (std::string(e->pd.impl_info_str()).rfind("jit_1x1:avx2", 0) == 0 && e->pd.next_impl()) {
    }
  e->prim = cb(e->pd);
  e->weights = Reorder(g.UserWeights(), e->pd.diff_weights_desc(), false);
  return *(bwd_weights_cache[key] = std::move(e));
}

// Returns the memory the primitive should see for user weights, reordering into it when needed.
memory WeightsIn(Reorder &r, const memory::desc &user_md, void *user) {
  memory u(user_md, Engine(), user);
  if (!r.needed) return u;
  r.prim.execute(Stream(), u, *r.scratch);
  return *r.scratch;
}

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

// conv2d(x, w, bias | null, y, geom, act, alpha): y = act(conv(x, w) + bias)
Napi::Value Conv2d(const Napi::CallbackInfo &info) {
  float *x = F32(info[0], "x");
  float *w = F32(info[1], "filter");
  bool has_bias = !info[2].IsNull() && !info[2].IsUndefined();
  float *b = has_bias ? F32(info[2], "bias") : nullptr;
  float *y = F32(info[3], "y");
  int act = static_cast<int>(Int(info[5]));
  float alpha = static_cast<float>(Dbl(info[6]));
  Precision p = CurrentPrecision();
  if (p == kBf16 && !FastBf16(Key(info[4], "f" + std::to_string(has_bias) + std::to_string(act)),
                              [&] { return GetFwd(info[4], has_bias, act, alpha, true).pd; }))
    p = kBf16Emulated;
  const bool bf16 = p == kBf16;
  const dt in = bf16 ? dt::bf16 : dt::f32;
  Fwd &e = GetFwd(info[4], has_bias, act, alpha, bf16);
  Geom g = ReadGeom(info[4]);
  Require(Len(info[0]) == g.SrcLen() && Len(info[3]) == g.DstLen() && Len(info[1]) == g.WeightsLen() &&
              (!has_bias || Len(info[2]) == g.oc),
          info.Env(), "conv2d: array sizes do not match the geometry");
  void *xs = Operand(x, g.SrcLen(), p, 0), *ws = Operand(w, g.WeightsLen(), p, 1);
  memory src(g.Src(in), Engine(), xs), dst(g.Dst(), Engine(), y);
  memory wm = WeightsIn(e.weights, g.UserWeights(in), ws);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, dst}};
  if (has_bias) args.insert({DNNL_ARG_BIAS, memory(g.Bias(), Engine(), b)});
  e.prim.execute(Stream(), args);
  Stream().wait();
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
  if (p == kBf16 && !FastBf16(Key(info[3], "bd"), [&] { return GetBwdData(info[3], true).pd; })) p = kBf16Emulated;
  const dt in = p == kBf16 ? dt::bf16 : dt::f32;
  BwdData &e = GetBwdData(info[3], p == kBf16);
  void *dys = Operand(dy, g.DstLen(), p, 0), *ws = Operand(w, g.WeightsLen(), p, 1);
  memory ddst(g.Dst(in), Engine(), dys), dsrc(g.Src(), Engine(), dx);
  memory wm = WeightsIn(e.weights, g.UserWeights(in), ws);
  e.prim.execute(Stream(), {{DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_SRC, dsrc}});
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
  if (p == kBf16 && !FastBf16(Key(info[3], "bw"), [&] { return GetBwdWeights(info[3], true).pd; }))
    p = kBf16Emulated;
  const dt in = p == kBf16 ? dt::bf16 : dt::f32;
  BwdWeights &e = GetBwdWeights(info[3], p == kBf16);
  void *xs = Operand(x, g.SrcLen(), p, 0), *dys = Operand(dy, g.DstLen(), p, 1);
  memory src(g.Src(in), Engine(), xs), ddst(g.Dst(in), Engine(), dys),
      user_w(g.UserWeights(), Engine(), dw);
  memory out = e.weights.needed ? *e.weights.scratch : user_w;
  e.prim.execute(Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_DIFF_WEIGHTS, out}});
  if (e.weights.needed) e.weights.prim.execute(Stream(), out, user_w);
  Stream().wait();
  return info.Env().Undefined();
}

// convImpl(kind, geom): the oneDNN implementation chosen in the current precision, for profiling ('fwd' | 'bwd_data' | 'bwd_weights').
Napi::Value ConvImpl(const Napi::CallbackInfo &info) {
  std::string kind = info[0].As<Napi::String>();
  std::string s;
  const bool bf16 = CurrentPrecision() == kBf16;
  if (kind == "fwd") s = GetFwd(info[1], false, kLinear, 0.f, bf16).pd.impl_info_str();
  else if (kind == "bwd_data") s = GetBwdData(info[1], bf16).pd.impl_info_str();
  else s = GetBwdWeights(info[1], bf16).pd.impl_info_str();
  return Napi::String::New(info.Env(), s);
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
}

}  // namespace ob
