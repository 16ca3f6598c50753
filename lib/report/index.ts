// optbench/report: reads run records (never trains) and draws the study's figures, tables and page; the
// chart building blocks, so that a user's own plot is a function from the report to a figure.
export type {
  Artifact,
  Cell,
  CellStatus,
  ConfusionReport,
  CurvePoint,
  Format,
  ModelKind,
  ModelReport,
  Report,
  ReportSource,
  RunSummary,
  SeriesReport,
  Stat,
  VaeReport,
} from './types.js';
export { FORMATS } from './types.js';
export { readRunDir } from './read.js';
export { buildReport } from './build.js';
export { renderD3, report, reportPage, writeReport, parseFormats, type RenderOptions, type WriteReportOptions } from './render.js';
export { REPORT_SUBDIR, fileWriter, pageFiles, writeArtifacts, type ArtifactFile, type ArtifactWriter, type Page } from './artifacts.js';
export { reportFigures, displayName, type Figure } from './figures.js';
export { stripChart, type StripChart, type StripRow } from './strip.js';
export { lineChart, type LineChart, type LineSeries, type LinePoint } from './charts.js';
export { confusionChart, type ConfusionChart } from './confusion.js';
export { traversalChart, samplesChart } from './images.js';
export { chartFrame, CHART, type Frame } from './frame.js';
export { toMarkdown, toCsv, toLatex, CSV_COLUMNS } from './tables.js';
export { renderHtml } from './html.js';
export { colorFor, OKABE_ITO } from './palette.js';
export { STUDY_RESULTS, STUDY_OPTIMIZERS, STUDY_MODELS, STUDY_EPOCHS, studyValue } from './study.js';
export { recordArtifacts } from './record-artifacts.js';
export { performanceProfile, profileScore, rho as profileRho, TAU_MAX, type PerformanceProfile, type ProfileRow, type Times } from './profile.js';
export { profileChart, type ProfileChart } from './profile-chart.js';
export { profileFigures } from './figures.js';
export {
  modelTarget,
  seedTime,
  seriesTimeToTarget,
  timeToTargetReport,
  type ModelTimes,
  type SeedTime,
  type SeriesTimeToTarget,
  type TimeStat,
  type TimeToTargetReport,
  type Workload,
} from './time-to-target.js';
export { tttText, NOT_REACHED } from './ttt-tables.js';
