import { strict as assert } from 'node:assert';
import { isOneOf } from '../lib/one-of.js';

describe('isOneOf', () => {
  const COLOURS = ['red', 'green'] as const;
  const isColour = isOneOf(COLOURS);

  it('accepts exactly the names of its list', () => {
    assert.deepEqual(['red', 'green', 'blue', 'Red', ' red', ''].map(isColour), [true, true, false, false, false, false]);
  });

  it('rejects values that are not strings rather than throwing', () => {
    assert.deepEqual([undefined, null, 0, ['red'], { red: 1 }, true].map(isColour), [false, false, false, false, false, false]);
  });

  it('narrows to the list type, so a checked value needs no cast', () => {
    const input: unknown = 'green';
    const picked: Array<(typeof COLOURS)[number]> = [];
    if (isColour(input)) picked.push(input);
    assert.deepEqual(picked, ['green']);
  });
});
