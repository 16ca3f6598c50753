// The convolution primitives behind native/conv.cc: geometry, the activation layout each primitive runs
// in, and the per-shape cache of oneDNN primitives with their reorders.
#pragma once
#include <memory>
#include <string>
#include "common.h"

namespace ob {

// Geometry as sent from JavaScript: N, H, W, C, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR.
struct Geom {
  int64_t n, h, w, c, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  dnnl::memory::desc Src(dnnl::memory::data_type t = dnnl::memory::data_type::f32) const;
  dnnl::memory::desc Dst(dnnl::memory::data_type t = dnnl::memory::data_type::f32) const;
  dnnl::memory::desc UserWeights(dnnl::memory::data_type t = dnnl::memory::data_type::f32) const;
  int64_t SrcLen() const { return n * h * w * c; }
  int64_t DstLen() const { return n * oh * ow * oc; }
  int64_t WeightsLen() const { return kh * kw * c * oc; }
};

Geom ReadGeom(const Napi::Value &v);
// A cache key: `extra`, then the geometry's 17 numbers.
std::string Key(const Geom &g, const std::string &extra);

// Where a primitive's activations live. TF.js's tensors are NHWC; oneDNN's AVX2 kernels run some shapes
// markedly faster on their own channel-blocked layout (nChw8c), paid for by a reorder of the input and
// output. kAuto chooses per primitive (UseBlocked in conv-prims.cc); the others force one layout
// everywhere (for tests and measurement). The codes: `ConvLayout` in ops.h.
void SetConvLayout(ConvLayout layout);
ConvLayout GetConvLayout();

// A reorder between a user buffer and a primitive's layout, skipped when they agree.
struct Reorder {
  bool needed = false;
  dnnl::reorder prim;
  std::unique_ptr<dnnl::memory> scratch;  // the primitive-side buffer
  Reorder() = default;
  Reorder(const dnnl::memory::desc &user, const dnnl::memory::desc &prim_md, bool user_to_prim);
  // The memory the primitive reads for an input at `user`: `user` itself, or its reordered copy.
  dnnl::memory In(const dnnl::memory::desc &user_md, void *user);
  // The memory the primitive writes an output to; Out() then copies it to `user` when they differ.
  dnnl::memory Target(const dnnl::memory::desc &user_md, void *user);
  void Out(const dnnl::memory::desc &user_md, void *user);
};

struct Fwd {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  Reorder weights, src, dst;
};
struct BwdData {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  Reorder weights, diff_dst, diff_src;
};
struct BwdWeights {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
  Reorder weights, src, diff_dst;
};

// Built once per geometry, precision and layout, then kept (building one costs far more than running it).
// The forward primitive is the plain convolution: Conv2D and FusedConv2D run the same one.
Fwd &GetFwd(const Geom &g, bool bf16);
BwdData &GetBwdData(const Geom &g, bool bf16);
BwdWeights &GetBwdWeights(const Geom &g, bool bf16);

// The gradient of a convolution with respect to a one-channel input (a decoder's output layer is a
// transposed convolution to one channel): a direct loop over the taps, vectorised over the output
// channels. oneDNN's kernels vectorise over the input channels and run it at a few GFLOP/s.
void SingleChannelBackpropInput(const Geom &g, const float *dy, const float *w, float *dx);

}  // namespace ob
