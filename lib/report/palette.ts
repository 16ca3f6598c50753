/**
 * One colour per optimizer, the same in every figure. Okabe & Ito's colour-blind-safe palette has eight
 * colours; its yellow is too faint for a line on white, so the seven study optimizers get the other seven
 * by fixed name, and any other series gets a colour chosen by a hash of its label (stable across figures).
 */
export const OKABE_ITO = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
} as const;

const FIXED: Readonly<Record<string, string>> = {
  sgd: OKABE_ITO.black,
  rmsprop: OKABE_ITO.orange,
  adagrad: OKABE_ITO.skyBlue,
  adadelta: OKABE_ITO.bluishGreen,
  adam: OKABE_ITO.blue,
  adamax: OKABE_ITO.vermillion,
  nadam: OKABE_ITO.reddishPurple,
};

// Darker companions of the palette for series beyond the seven (still distinguishable by dash in legends).
const EXTRA = ['#8C6D00', '#2F6F8F', '#005C45', '#7A3A00', '#7D3C68', '#555555', '#B8A800', '#003E63'];

const hash = (s: string): number => {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
};

export const colorFor = (label: string): string => FIXED[label.toLowerCase()] ?? EXTRA[hash(label) % EXTRA.length]!;

/** Every colour colorFor gives (a page's Content-Security-Policy can list the swatches' styles by hash). */
export const SERIES_COLOURS: readonly string[] = [...Object.values(FIXED), ...EXTRA];
