import * as E from 'fp-ts/lib/Either.js';
import { backendUnavailable, type BackendUnavailable } from '../errors.js';
import { nativeAddon } from './native.js';
import { opCode, type ConvLayout } from './native-ops.js';

/**
 * Where the native backend's convolutions keep their activations. TF.js's tensors are NHWC; on AVX2 CPUs
 * oneDNN runs some convolutions markedly faster on its channel-blocked layout, paid for by reordering
 * their input and output. `auto` (the default) chooses per primitive from measurements (see UseBlocked in
 * native/conv-prims.cc and bench/README.md); `nhwc` and `blocked` force one layout for every convolution,
 * for tests and for measuring the choice. The numbers agree to float32 summation order either way.
 * Codes: native/ops.h `OB_CONV_LAYOUTS`.
 */
export { CONV_LAYOUTS, type ConvLayout } from './native-ops.js';

/** Sets the convolution layout of the loaded native backend. */
export const setNativeConvLayout = (layout: ConvLayout): E.Either<BackendUnavailable, void> => {
  const addon = nativeAddon();
  if (addon === undefined)
    return E.left(backendUnavailable({ backend: 'native', message: 'The native backend is not loaded: call loadNative() first.' }));
  addon.setConvLayout(opCode(addon.ops.convLayout, layout));
  return E.right(undefined);
};
