// optbench/store: the SQLite store (runs, epochs, artifacts), persist, resumable training through a store
// (storeTrainer, file checkpoints), exports, and rebuilding a store from a run directory's records.
export { StoreStatus, type ArtifactInput, type ArtifactRow, type Claim, type RunRow } from './types.js';
export { openStore, storePath, STORE_FILE, type Store, type StoreOptions } from './store.js';
export { persist } from './persist.js';
export type { StoredEvent } from './writes.js';
export { SCHEMA_VERSION } from './schema.js';
export { EXPORT_CSV_COLUMNS, type ExportFormat, type ExportedRun } from './export.js';
export type { Versions } from './versions.js';
export { fileCheckpointer } from './checkpointer.js';
export { storeTrainer, type StoreTrainerOptions } from './trainer.js';
export { checkProtocol } from './run-dir.js';
export { rebuildStore, type Rebuilt } from './rebuild.js';
