import * as tf from '@tensorflow/tfjs';

/**
 * TF.js's JavaScript Conv2DBackpropFilter reads every element through TensorBuffer.get(...) with its
 * loops ordered filter-first, which makes a convolution's weight gradient cost minutes per step (a VAE1
 * step at batch 10 spent 51 s in it). This replacement computes the same sums over flat arrays, batch
 * and position outermost, in float64 accumulators; other data formats keep the original kernel.
 */

interface CpuBackendLike {
  data: { get(id: tf.DataId): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

type Attrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
};

const conv2dBackpropFilterFlat = (
  x: Float32Array,
  dy: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): Float32Array => {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const acc = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let b = 0; b < batchSize; b++)
    for (let yR = 0; yR < outHeight; yR++)
      for (let yC = 0; yC < outWidth; yC++) {
        const dyOff = ((b * outHeight + yR) * outWidth + yC) * outChannels;
        for (let wR = 0; wR < filterHeight; wR++) {
          const xR = yR * strideHeight - top + wR;
          if (xR < 0 || xR >= inHeight) continue;
          for (let wC = 0; wC < filterWidth; wC++) {
            const xC = yC * strideWidth - left + wC;
            if (xC < 0 || xC >= inWidth) continue;
            const xOff = ((b * inHeight + xR) * inWidth + xC) * inChannels;
            const wOff = (wR * filterWidth + wC) * inChannels * outChannels;
            for (let d1 = 0; d1 < inChannels; d1++) {
              const xv = x[xOff + d1]!;
              if (xv === 0) continue; // after a ReLU, most inputs are
              const o = wOff + d1 * outChannels;
              for (let d2 = 0; d2 < outChannels; d2++) acc[o + d2]! += xv * dy[dyOff + d2]!;
            }
          }
        }
      }
  return Float32Array.from(acc);
};

let installed = false;

/** Replaces the cpu backend's Conv2DBackpropFilter (once per process). */
export const installFastCpuKernels = (): void => {
  if (installed) return;
  const original = tf.getKernel(tf.Conv2DBackpropFilter, 'cpu');
  if (original === undefined) return;
  installed = true;
  tf.unregisterKernel(tf.Conv2DBackpropFilter, 'cpu');
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName: 'cpu',
    kernelFunc: (args) => {
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = args.attrs as unknown as Attrs;
      const backend = args.backend as unknown as CpuBackendLike;
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        a.filterShape,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
        false,
        tf.backend_util.convertConv2DDataFormat(a.dataFormat),
      );
      if (info.dataFormat !== 'channelsLast' || x.dtype !== 'float32') return original.kernelFunc(args);
      const out = conv2dBackpropFilterFlat(
        backend.data.get(x.dataId).values as Float32Array,
        backend.data.get(dy.dataId).values as Float32Array,
        info,
      );
      return backend.makeTensorInfo([...info.filterShape], 'float32', out);
    },
  });
};
