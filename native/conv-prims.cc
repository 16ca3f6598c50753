// oneDNN convolution primitives for TF.js's layouts (activations NHWC, filters HWIO), built once per shape
// and kept, each with the reorders its layout needs.
#include <unordered_map>
#include "conv.h"

namespace ob {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

memory::desc Geom::Src(dt t) const { return memory::desc({n, c, h, w}, t, tag::nhwc); }
memory::desc Geom::Dst(dt t) const { return memory::desc({n, oc, oh, ow}, t, tag::nhwc); }
memory::desc Geom::UserWeights(dt t) const { return memory::desc({oc, c, kh, kw}, t, tag::hwio); }

Geom ReadGeom(const Napi::Value &v) {
  auto g = Ints(v);
  Require(g.size() == 17, v.Env(), "conv geometry must have 17 numbers");
  return Geom{g[0], g[1], g[2],  g[3],  g[4],  g[5],  g[6],  g[7], g[8],
              g[9], g[10], g[11], g[12], g[13], g[14], g[15], g[16]};
}

std::string Key(const Geom &g, const std::string &extra) {
  std::string k = extra;
  for (int64_t x : {g.n, g.h, g.w, g.c, g.oh, g.ow, g.oc, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.pb, g.pr})
    k += "," + std::to_string(x);
  return k;
}

Reorder::Reorder(const memory::desc &user, const memory::desc &prim_md, bool user_to_prim) {
  needed = user != prim_md;
  if (!needed) return;
  prim = dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), user_to_prim ? user : prim_md, Engine(),
                                                     user_to_prim ? prim_md : user));
  scratch = std::make_unique<memory>(prim_md, Engine());
}

memory Reorder::In(const memory::desc &user_md, void *user) {
  memory u(user_md, Engine(), user);
  if (!needed) return u;
  prim.execute(Stream(), u, *scratch);
  return *scratch;
}

memory Reorder::Target(const memory::desc &user_md, void *user) {
  return needed ? *scratch : memory(user_md, Engine(), user);
}

void Reorder::Out(const memory::desc &user_md, void *user) {
  if (!needed) return;
  memory u(user_md, Engine(), user);
  prim.execute(Stream(), *scratch, u);
}

namespace {

ConvLayout layout_mode = kLayoutAuto;

enum Kind { kFwd, kBwdData, kBwdWeights };

// Whether a primitive runs on oneDNN's blocked activation layout rather than NHWC. Measured inside training
// steps on a 2-core AVX2 machine (oneDNN 2.6, jit:avx2, batch 200; bench/README.md, `--conv-layouts`):
// the weight gradient of a 5x5 filter over 32-128 channels is 10-35 % faster on blocked activations (VAE2's
// 5x5 64 -> 128: 184 -> 159 ms), more than the reorders of its two inputs cost (10 ms there); 3x3 filters
// do less work per reordered element and lose (BCNN's step: 9 % slower), and the forward pass and the
// input gradient gain about nothing while paying the reorders. So: weight gradients of filters of at
// least 5x5 with channels in multiples of 8, on CPUs below AVX-512 (AVX-512 kernels were not measured);
// bf16 keeps NHWC.
bool UseBlocked(const Geom &g, Kind kind, bool bf16) {
  if (bf16 || layout_mode == kLayoutNhwc) return false;
  if (layout_mode == kLayoutBlocked) return true;
  static const bool avx2_or_less = [] {
    switch (dnnl::get_effective_cpu_isa()) {
      case dnnl::cpu_isa::sse41:
      case dnnl::cpu_isa::avx:
      case dnnl::cpu_isa::avx2:
      case dnnl::cpu_isa::avx2_vnni: return true;
      default: return false;
    }
  }();
  return kind == kBwdWeights && avx2_or_less && g.kh * g.kw >= 25 && g.c % 8 == 0 && g.oc % 8 == 0;
}

memory::desc Activations(const memory::desc &nhwc, bool blocked) {
  return blocked ? memory::desc(nhwc.dims(), nhwc.data_type(), tag::any) : nhwc;
}

memory::desc AnyWeights(const Geom &g, dt t) { return memory::desc({g.oc, g.c, g.kh, g.kw}, t, tag::any); }

// bf16: source and weights in bf16, destination in fp32 (oneDNN accumulates in fp32). No bias and no
// post-ops: a fused convolution's bias and activation are added by conv.cc after this primitive, because
// where oneDNN adds a bias inside its accumulation depends on the kernel (see Conv2d in conv.cc).
dnnl::convolution_forward::primitive_desc ForwardPd(const Geom &g, bool bf16, bool blocked) {
  using cf = dnnl::convolution_forward;
  const dt in = bf16 ? dt::bf16 : dt::f32;
  const memory::desc src = Activations(g.Src(in), blocked), dst = Activations(g.Dst(), blocked);
  return cf::primitive_desc(cf::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src,
                                     AnyWeights(g, in), dst, {g.sh, g.sw}, {g.dh - 1, g.dw - 1}, {g.pt, g.pl},
                                     {g.pb, g.pr}),
                            Engine());
}

std::unordered_map<std::string, std::unique_ptr<Fwd>> fwd_cache;
std::unordered_map<std::string, std::unique_ptr<BwdData>> bwd_data_cache;
std::unordered_map<std::string, std::unique_ptr<BwdWeights>> bwd_weights_cache;

std::string LayoutKey(bool blocked) { return blocked ? ":blk" : ""; }

}  // namespace

void SetConvLayout(ConvLayout layout) { layout_mode = layout; }
ConvLayout GetConvLayout() { return layout_mode; }

Fwd &GetFwd(const Geom &g, bool bf16) {
  const bool blocked = UseBlocked(g, kFwd, bf16);
  std::string key = Key(g, std::string(bf16 ? "f16" : "f") + LayoutKey(blocked));
  auto it = fwd_cache.find(key);
  if (it != fwd_cache.end()) return *it->second;
  const dt in = bf16 ? dt::bf16 : dt::f32;
  auto e = std::make_unique<Fwd>();
  e->pd = ForwardPd(g, bf16, blocked);
  e->prim = dnnl::convolution_forward(e->pd);
  e->weights = Reorder(g.UserWeights(in), e->pd.weights_desc(), true);
  e->src = Reorder(g.Src(in), e->pd.src_desc(), true);
  e->dst = Reorder(g.Dst(), e->pd.dst_desc(), false);
  return *(fwd_cache[key] = std::move(e));
}

// bf16: the output's gradient and the weights in bf16, the input's gradient in fp32.
BwdData &GetBwdData(const Geom &g, bool bf16) {
  const bool blocked = UseBlocked(g, kBwdData, bf16);
  std::string key = Key(g, std::string(bf16 ? "bd16" : "bd") + LayoutKey(blocked));
  auto it = bwd_data_cache.find(key);
  if (it != bwd_data_cache.end()) return *it->second;
  auto hint = ForwardPd(g, bf16, blocked);
  using cb = dnnl::convolution_backward_data;
  const dt in = bf16 ? dt::bf16 : dt::f32;
  cb::desc d(dnnl::algorithm::convolution_direct, Activations(g.Src(), blocked), AnyWeights(g, in),
             Activations(g.Dst(in), blocked), {g.sh, g.sw}, {g.dh - 1, g.dw - 1}, {g.pt, g.pl}, {g.pb, g.pr});
  auto e = std::make_unique<BwdData>();
  e->pd = cb::primitive_desc(d, Engine(), hint);
  e->prim = cb(e->pd);
  e->weights = Reorder(g.UserWeights(in), e->pd.weights_desc(), true);
  e->diff_dst = Reorder(g.Dst(in), e->pd.diff_dst_desc(), true);
  e->diff_src = Reorder(g.Src(), e->pd.diff_src_desc(), false);
  return *(bwd_data_cache[key] = std::move(e));
}

// bf16: the input and the output's gradient in bf16, the weights' gradient in fp32.
BwdWeights &GetBwdWeights(const Geom &g, bool bf16) {
  const bool blocked = UseBlocked(g, kBwdWeights, bf16);
  std::string key = Key(g, std::string(bf16 ? "bw16" : "bw") + LayoutKey(blocked));
  auto it = bwd_weights_cache.find(key);
  if (it != bwd_weights_cache.end()) return *it->second;
  auto hint = ForwardPd(g, bf16, blocked);
  using cb = dnnl::convolution_backward_weights;
  const dt in = bf16 ? dt::bf16 : dt::f32;
  cb::desc d(dnnl::algorithm::convolution_direct, Activations(g.Src(in), blocked), AnyWeights(g, dt::f32),
             Activations(g.Dst(in), blocked), {g.sh, g.sw}, {g.dh - 1, g.dw - 1}, {g.pt, g.pl}, {g.pb, g.pr});
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
  e->src = Reorder(g.Src(in), e->pd.src_desc(), true);
  e->diff_dst = Reorder(g.Dst(in), e->pd.diff_dst_desc(), true);
  return *(bwd_weights_cache[key] = std::move(e));
}

}  // namespace ob
