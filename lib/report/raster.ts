import { existsSync } from 'node:fs';
import { renderAsync } from '@resvg/resvg-js';

/**
 * Fonts for the PNGs. resvg draws no text without a font; Debian's fonts-dejavu-core (or
 * fonts-liberation) provides one. When neither is installed, resvg falls back to the system's fonts.
 */
const FONT_FILES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf',
];

/** DejaVu when installed, else Liberation: one family is enough, and each font file costs load time. */
export const availableFonts = (): string[] => {
  const found = FONT_FILES.filter((f) => existsSync(f));
  const dejavu = found.filter((f) => f.includes('DejaVu'));
  return dejavu.length > 0 ? dejavu : found;
};

/** A PNG of `svg`, `scale` times its size, on white. */
export const svgToPng = async (svg: string, scale = 2, fontFiles: readonly string[] = availableFonts()): Promise<Buffer> => {
  const image = await renderAsync(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: {
      fontFiles: [...fontFiles],
      loadSystemFonts: fontFiles.length === 0,
      defaultFontFamily: fontFiles.some((f) => f.includes('DejaVu')) ? 'DejaVu Sans' : fontFiles.length > 0 ? 'Liberation Sans' : '',
    },
    logLevel: 'off',
  });
  return image.asPng();
};
