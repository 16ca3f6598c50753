import { intIn } from './codecs.js';

export const PositiveInt = intIn('a positive whole number', 1);
export const NonNegativeInt = intIn('a whole number >= 0', 0);
