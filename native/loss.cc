// The study's classifier loss, mean softmax cross-entropy over a batch, and its gradient, each in one call.
// TF.js composes tf.losses.softmaxCrossEntropy from about twenty kernels forward and a dozen backward on a
// [batch, classes] tensor, each costing tens of microseconds of JavaScript; these compute the same float32
// operations in the same order as those kernels do on `native` (max; x - max; exp through the Exp kernel's
// own paths; sums accumulated in double from 0 in index order; log in double; x - logsumexp; -(lr * onehot);
// the mean as the sum in double of v / n), so the results are bit-identical.
#include <cmath>
#include <vector>
#include "common.h"

namespace ob {
namespace {

// log(softmax(x)) per row into lr, as TF.js's logSumExp and sub compute it.
void LogSoftmax(const float *x, float *lr, int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  std::vector<float> shifted(n), e(n), mx(rows);
  for (int64_t i = 0; i < rows; i++) {
    const float *p = x + i * cols;
    double acc = p[0];  // the Max kernel: NaN wins, else the largest
    for (int64_t j = 0; j < cols; j++) acc = (std::isnan(static_cast<double>(p[j])) || p[j] > acc) ? p[j] : acc;
    mx[i] = static_cast<float>(acc);
    for (int64_t j = 0; j < cols; j++) shifted[i * cols + j] = p[j] - mx[i];
  }
  ExpArray(shifted.data(), e.data(), n);
  for (int64_t i = 0; i < rows; i++) {
    double s = 0.0;
    for (int64_t j = 0; j < cols; j++) s += e[i * cols + j];
    const float logSum = static_cast<float>(std::log(static_cast<double>(static_cast<float>(s))));
    const float lse = mx[i] + logSum;
    for (int64_t j = 0; j < cols; j++) lr[i * cols + j] = x[i * cols + j] - lse;
  }
}

inline float OneHot(const int32_t *labels, int64_t i, int64_t j) { return labels[i] == j ? 1.f : 0.f; }

const int32_t *Labels(const Napi::Value &v, int64_t rows) {
  Require(v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array, v.Env(),
          "softmaxCrossEntropy: labels must be an Int32Array");
  Require(static_cast<int64_t>(v.As<Napi::Int32Array>().ElementLength()) == rows, v.Env(),
          "softmaxCrossEntropy: one label per row");
  return v.As<Napi::Int32Array>().Data();
}

// softmaxCrossEntropy(logits, labels, out, rows, cols): out[0] = mean over rows of
// -sum_j log(softmax(logits))_ij onehot(labels)_ij.
Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo &info) {
  const float *x = F32(info[0], "logits");
  float *out = F32(info[2], "out");
  const int64_t rows = Int(info[3]), cols = Int(info[4]);
  Require(rows >= 1 && cols >= 1 && Len(info[0]) == rows * cols && Len(info[2]) == 1, info.Env(),
          "softmaxCrossEntropy: array sizes do not match the dimensions");
  const int32_t *labels = Labels(info[1], rows);
  std::vector<float> lr(rows * cols);
  LogSoftmax(x, lr.data(), rows, cols);
  const float count = static_cast<float>(rows);
  double mean = 0.0;
  for (int64_t i = 0; i < rows; i++) {
    double ce = 0.0;
    for (int64_t j = 0; j < cols; j++) ce += -(lr[i * cols + j] * OneHot(labels, i, j));
    mean += static_cast<double>(static_cast<float>(ce) / count);
  }
  out[0] = static_cast<float>(mean);
  return info.Env().Undefined();
}

// softmaxCrossEntropyGrad(logits, labels, dy, dx, rows, cols): the gradient of the mean loss above with
// respect to the logits, for the upstream gradient dy: (dy * 1 / rows) * (softmax(logits) - onehot), with
// softmax as exp(log softmax), in TF.js's order.
Napi::Value SoftmaxCrossEntropyGrad(const Napi::CallbackInfo &info) {
  const float *x = F32(info[0], "logits");
  const float dy = static_cast<float>(Dbl(info[2]));
  float *dx = F32(info[3], "dx");
  const int64_t rows = Int(info[4]), cols = Int(info[5]);
  Require(rows >= 1 && cols >= 1 && Len(info[0]) == rows * cols && Len(info[3]) == rows * cols, info.Env(),
          "softmaxCrossEntropyGrad: array sizes do not match the dimensions");
  const int32_t *labels = Labels(info[1], rows);
  std::vector<float> lr(rows * cols), e(rows * cols);
  LogSoftmax(x, lr.data(), rows, cols);
  ExpArray(lr.data(), e.data(), rows * cols);
  const float perRow = (dy * 1.f) / static_cast<float>(rows);  // the Mean kernel's gradient
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) dx[i * cols + j] = perRow * (e[i * cols + j] - OneHot(labels, i, j));
  return info.Env().Undefined();
}

}  // namespace

void InitLoss(Napi::Env env, Napi::Object exports) {
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy));
  exports.Set("softmaxCrossEntropyGrad", Napi::Function::New(env, SoftmaxCrossEntropyGrad));
}

}  // namespace ob
